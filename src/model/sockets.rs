//! The sockets of an app's socket unit, as the compiler writes them and the
//! helper finds them among the fds systemd passes (docs/contract.md, "The
//! socket layer"). One socket per `listen` address, shared by every worker;
//! with `sticky = true`, one per instance for each TCP address: the line
//! repeated N times with `ReusePort=yes`, one reuseport group whose i-th
//! socket is instance i's, in the order of the lines.

/// A unix socket path (`/run/api.sock`) or an abstract one (`@api`): no
/// reuseport group, so never one per instance.
pub fn is_unix(address: &str) -> bool {
    address.starts_with('/') || address.starts_with('@')
}

/// The port of a `ListenStream=` TCP value: `3000`, `127.0.0.1:3000`,
/// `[::1]:3000`; `None` for a unix socket.
pub fn tcp_port(address: &str) -> Option<u16> {
    let port = address.rsplit_once(':').map_or(address, |(_, port)| port);
    parse_port(port)
}

/// A port as Node's `listen()` takes it from a string of digits.
pub fn parse_port(text: &str) -> Option<u16> {
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    valid
        .then(|| text.parse().ok())
        .flatten()
        .filter(|&port| port > 0)
}

/// The socket unit's `ListenStream=` values, in order.
pub fn lines(listen: &[String], sticky: bool, instances: u32) -> Vec<String> {
    listen
        .iter()
        .flat_map(|address| {
            let copies = if sticky && !is_unix(address) {
                instances.max(1)
            } else {
                1
            };
            std::iter::repeat_n(address.clone(), copies as usize)
        })
        .collect()
}

/// The inverse of [`lines`]: each address once.
pub fn addresses(lines: &[String]) -> Vec<String> {
    let mut addresses: Vec<String> = Vec::new();
    for line in lines {
        if addresses.last() != Some(line) {
            addresses.push(line.clone());
        }
    }
    addresses
}

/// For each address of `listen`, the indexes (from 0, the fd less 3) of its
/// sockets among the `passed` ones; `None` when they do not add up.
pub fn indexes(listen: &[String], sticky: bool, passed: usize) -> Option<Vec<Vec<usize>>> {
    let tcp = listen.iter().filter(|a| sticky && !is_unix(a)).count();
    let single = listen.len() - tcp;
    let copies = match (tcp, passed.checked_sub(single)?) {
        (0, 0) => 1,
        (0, _) => return None,
        (tcp, rest) if rest % tcp == 0 && rest > 0 => rest / tcp,
        _ => return None,
    };
    let mut next = 0;
    Some(
        listen
            .iter()
            .map(|address| {
                let count = if sticky && !is_unix(address) {
                    copies
                } else {
                    1
                };
                let range = (next..next + count).collect();
                next += count;
                range
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn ports_of_listen_values() {
        assert_eq!(tcp_port("3000"), Some(3000));
        assert_eq!(tcp_port("127.0.0.1:3100"), Some(3100));
        assert_eq!(tcp_port("[::1]:8443"), Some(8443));
        assert_eq!(tcp_port("[::]:0"), None);
        assert_eq!(tcp_port("/run/api.sock"), None);
    }

    #[test]
    fn port_numbers_only() {
        assert_eq!(parse_port("3000"), Some(3000));
        for bad in [
            "",
            "0",
            "65536",
            "3000abc",
            " 3000",
            "-1",
            "+3000",
            "/run/api.sock",
        ] {
            assert_eq!(parse_port(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sticky_repeats_each_tcp_address_once_per_instance() {
        let listen = strings(&["127.0.0.1:3000", "/run/api.sock", "[::1]:3000"]);
        assert_eq!(lines(&listen, false, 3), listen);
        let sticky = lines(&listen, true, 3);
        assert_eq!(
            sticky,
            strings(&[
                "127.0.0.1:3000",
                "127.0.0.1:3000",
                "127.0.0.1:3000",
                "/run/api.sock",
                "[::1]:3000",
                "[::1]:3000",
                "[::1]:3000"
            ])
        );
        assert_eq!(addresses(&sticky), listen);
    }

    #[test]
    fn each_worker_finds_its_sockets() {
        let listen = strings(&["127.0.0.1:3000", "/run/api.sock", "[::1]:3000"]);
        assert_eq!(
            indexes(&listen, true, 7),
            Some(vec![vec![0, 1, 2], vec![3], vec![4, 5, 6]])
        );
        assert_eq!(
            indexes(&listen, false, 3),
            Some(vec![vec![0], vec![1], vec![2]])
        );
        assert_eq!(indexes(&listen, true, 6), None, "7 sockets or 3 + 2 × N");
        assert_eq!(indexes(&listen, true, 1), None);
        assert_eq!(indexes(&listen, false, 2), None);
    }
}
