//! The worker's own sockets among those systemd passed, and with
//! `--sticky` the steering of each client address to one instance: a
//! classic BPF program on the reuseport group of each TCP address (one
//! socket per instance, in instance order; `model::sockets`). Attaching a
//! classic program needs no privilege, unlike `bpf()`; every worker attaches
//! the same one, the last attach holding for the whole group.

use std::os::fd::RawFd;

use nix::libc;

use crate::model::{sockets, HelperOptions};

/// Each address with the fd this worker serves it from; with `--sticky`,
/// the program attached on the TCP ones. Sockets that do not add up to the
/// addresses are used in order, with a warning.
pub fn own_sockets(options: &HelperOptions, instance: u32, passed: usize) -> Vec<(String, RawFd)> {
    let Some(groups) = sockets::indexes(&options.listen, options.sticky, passed) else {
        tracing::warn!(
            "{} --listen addresses{} but systemd passed {passed} sockets",
            options.listen.len(),
            if options.sticky { " (sticky)" } else { "" }
        );
        return options
            .listen
            .iter()
            .cloned()
            .zip(3..)
            .take(passed)
            .collect();
    };
    options
        .listen
        .iter()
        .zip(groups)
        .map(|(address, group)| {
            let fd = |index: usize| 3 + index as RawFd;
            if group.len() == 1 {
                return (address.clone(), fd(group[0]));
            }
            let own = fd(group[instance as usize % group.len()]);
            if let Err(error) = attach(own, group.len() as u32) {
                tracing::warn!(
                    "cannot steer clients of {address} to one instance each (sticky): {error}; they go to any"
                );
            }
            (address.clone(), own)
        })
        .collect()
}

/// An instruction of classic BPF.
fn op(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `index = (source address × 0x9E3779B1) >> 16 mod sockets`: the IPv4
/// source (the network header's word at 12), or the last word of an IPv6
/// one (at 20).
fn program(sockets: u32) -> Vec<libc::sock_filter> {
    let net = |offset: i32| (libc::SKF_NET_OFF + offset) as u32;
    let jeq = libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf: 2,
        k: 4,
    };
    vec![
        op(libc::BPF_LD | libc::BPF_B | libc::BPF_ABS, net(0)),
        op(libc::BPF_ALU | libc::BPF_RSH | libc::BPF_K, 4),
        jeq,
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, net(12)),
        op(libc::BPF_JMP | libc::BPF_JA, 1),
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, net(20)),
        op(libc::BPF_ALU | libc::BPF_MUL | libc::BPF_K, 0x9E37_79B1),
        op(libc::BPF_ALU | libc::BPF_RSH | libc::BPF_K, 16),
        op(libc::BPF_ALU | libc::BPF_MOD | libc::BPF_K, sockets.max(1)),
        op(libc::BPF_RET | libc::BPF_A, 0),
    ]
}

fn attach(fd: RawFd, sockets: u32) -> std::io::Result<()> {
    let mut filter = program(sockets);
    let fprog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `filter`, alive for the call; the kernel copies it.
    let done = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            std::ptr::addr_of!(fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_picks_by_the_source_address_modulo_the_sockets() {
        let program = program(4);
        assert_eq!(program.len(), 10);
        // The IPv4/IPv6 branch lands on the loads of each family's source.
        assert_eq!((program[2].jt, program[2].jf), (0, 2));
        assert_eq!(program[3].k, (libc::SKF_NET_OFF + 12) as u32);
        assert_eq!(program[5].k, (libc::SKF_NET_OFF + 20) as u32);
        assert_eq!(program[8].k, 4);
        assert_eq!(super::program(0)[8].k, 1, "never a division by zero");
    }
}
