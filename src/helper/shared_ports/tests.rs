//! Binding, sharing and letting go of the sockets of ports in the app's code.

use super::*;
use std::io::Read;
use std::net::TcpStream;

fn request(id: u64, port: u16) -> BindRequest {
    BindRequest {
        id,
        port,
        host: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ipv6_only: false,
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}

#[test]
fn a_port_is_bound_once_and_shared_with_a_second_socket_of_it() {
    let port = free_port();
    let (mut ours, mut theirs) = UnixStream::pair().expect("a socket pair");
    let mut ports = SharedPorts::default();
    ports.answer(&request(1, port), Some(&mut ours), Asker::Current);
    ports.answer(&request(2, port), Some(&mut ours), Asker::Successor);
    assert_eq!(ports.ports(), vec![port], "one socket for both");
    // Another worker's helper binds the same port beside it.
    let other = bind_shared(&request(3, port)).expect("SO_REUSEPORT lets a second socket bind");
    drop(other);
    TcpStream::connect(("127.0.0.1", port)).expect("the held socket accepts connections");
    let mut text = vec![0; 4096];
    let n = theirs.read(&mut text).expect("the answers");
    let text = String::from_utf8_lossy(&text[..n]);
    assert!(
        text.starts_with(r#"{"cmd":"NODE_HANDLE","msg":{"cmd":"NODE_NODEUNITS_SOCKET","id":1},"type":"net.Native"}"#),
        "{text}"
    );
}

#[test]
fn a_port_taken_by_a_plain_socket_is_an_error_for_the_app() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port();
    let (mut ours, mut theirs) = UnixStream::pair().expect("a socket pair");
    let mut ports = SharedPorts::default();
    ports.answer(&request(7, port), Some(&mut ours), Asker::Current);
    assert!(ports.ports().is_empty());
    let mut text = vec![0; 4096];
    let n = theirs.read(&mut text).expect("the answer");
    assert_eq!(
        String::from_utf8_lossy(&text[..n]),
        format!(
            "{{\"cmd\":\"NODE_NODEUNITS_SOCKET\",\"errno\":{},\"id\":7}}\n",
            Errno::EADDRINUSE as i32
        )
    );
}

#[test]
fn stored_names_give_back_the_request() {
    for host in [None, Some("127.0.0.1"), Some("::1"), Some("fe80::1")] {
        for ipv6_only in [false, true] {
            let host = host.map(|h| h.parse().expect("an address"));
            let (socket, _peer) = UnixStream::pair().expect("a socket pair");
            let held = Held {
                port: 8401,
                host,
                ipv6_only,
                socket: socket.into(),
                current: true,
                successor: false,
            };
            let name = held.stored_name();
            assert!(is_stored(&name) && !name.contains(':'), "{name}");
            assert_eq!(from_stored(&name), Some((8401, ipv6_only, host)), "{name}");
        }
    }
    assert_eq!(from_stored("nodeunits-port.x.0.any"), None);
    assert_eq!(from_stored("api.socket"), None);
}

#[test]
fn after_a_reload_only_the_ports_the_successor_asked_for_stay() {
    let (old_port, new_port) = (free_port(), free_port());
    let (mut ours, _theirs) = UnixStream::pair().expect("a socket pair");
    let mut ports = SharedPorts::default();
    ports.answer(&request(1, old_port), Some(&mut ours), Asker::Current);
    ports.answer(&request(2, new_port), Some(&mut ours), Asker::Successor);
    ports.without_successor();
    assert_eq!(
        ports.ports(),
        vec![old_port],
        "a failed successor's port is let go"
    );
    ports.answer(&request(3, new_port), Some(&mut ours), Asker::Successor);
    ports.promoted();
    assert_eq!(
        ports.ports(),
        vec![new_port],
        "the old process's port is let go"
    );
}
