//! Node's IPC channel in `json` serialization mode: one JSON value per line;
//! what the helper reads from it and the 'shutdown' it writes.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

use nix::unistd::Pid;
use serde_json::Value;

use super::shared_ports::BindRequest;

/// What a message from the app means to the helper.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// `process.send('ready')`.
    Ready,
    /// The preload: a server listens, on the inherited socket of this fd,
    /// or else on an address it bound itself.
    Listening {
        fd: Option<i64>,
        address: Option<String>,
    },
    /// The preload: a `listen()` on a TCP port no socket of the unit holds
    /// failed with EADDRINUSE; `address` as Node reports it (`::`, `127.0.0.1`).
    AddressInUse { port: u16, address: Option<String> },
    /// The preload under a launcher: this process serves the app and
    /// reads the channel.
    Attached { pid: i32 },
    /// The preload under a launcher: a Node process of the tree has started.
    Started { pid: i32 },
    /// The preload, in cluster mode: a socket for a port in the app's code.
    Bind(BindRequest),
    /// The preload's heartbeat: the app's event loop turned.
    Beat,
    /// Anything else: Node's internal messages, the app's own.
    Other,
}

/// The key of the preload's messages; an app has no reason to send it.
pub const PRELOAD_KEY: &str = "nodeunits";

impl Message {
    pub fn parse(line: &[u8]) -> Message {
        let map = match serde_json::from_slice::<Value>(line) {
            Ok(Value::String(s)) if s == "ready" => return Message::Ready,
            Ok(Value::Object(map)) => map,
            _ => return Message::Other,
        };
        let address = map
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match map.get(PRELOAD_KEY).and_then(Value::as_str) {
            Some("listening") => Message::Listening {
                fd: map.get("fd").and_then(Value::as_i64),
                address,
            },
            Some("address-in-use") => match map
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|port| u16::try_from(port).ok())
            {
                Some(port) => Message::AddressInUse { port, address },
                None => Message::Other,
            },
            Some("bind") => bind_request(&map).map_or(Message::Other, Message::Bind),
            Some("beat") => Message::Beat,
            Some(event @ ("started" | "attached")) => {
                match map.get("pid").and_then(Value::as_i64).map(i32::try_from) {
                    Some(Ok(pid)) if pid > 1 && event == "started" => Message::Started { pid },
                    Some(Ok(pid)) if pid > 1 => Message::Attached { pid },
                    _ => Message::Other,
                }
            }
            _ => Message::Other,
        }
    }
}

/// `{"nodeunits":"bind","id":1,"port":3000,"host":"127.0.0.1"|null,"ipv6Only":false}`.
fn bind_request(map: &serde_json::Map<String, Value>) -> Option<BindRequest> {
    let port = map
        .get("port")?
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())?;
    let host = match map.get("host") {
        None | Some(Value::Null) => None,
        Some(host) => Some(host.as_str()?.parse().ok()?),
    };
    Some(BindRequest {
        id: map.get("id")?.as_u64()?,
        port: Some(port).filter(|&port| port > 0)?,
        host,
        ipv6_only: map
            .get("ipv6Only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The line encoding of a message sent to the app.
pub fn encode(message: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(message).expect("a string serializes");
    line.push(b'\n');
    line
}

/// Bytes read from the channel, cut into whole lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

/// A line longer than this is an app's bulk data, not a message for the
/// helper: it is dropped rather than buffered without bound.
const MAX_LINE: usize = 64 * 1024;

impl LineBuffer {
    /// Appends `bytes` and returns the messages of the lines now complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Message> {
        self.pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            messages.push(Message::parse(&line[..end]));
        }
        if self.pending.len() > MAX_LINE {
            self.pending.clear();
        }
        messages
    }
}

/// Sends an app process the message 'shutdown'; false when it was not sent.
/// Under a launcher only a process that took the channel (`serving`) reads it.
pub fn send_shutdown(channel: Option<&mut UnixStream>, launcher: bool, serving: &[Pid]) -> bool {
    let read = !launcher || !serving.is_empty();
    read && channel.is_some_and(|channel| channel.write_all(&encode("shutdown")).is_ok())
}

/// The whole messages read from a channel; `None` once it is closed.
pub fn read_stream(channel: &mut UnixStream, lines: &mut LineBuffer) -> Option<Vec<Message>> {
    let mut buffer = [0u8; 4096];
    match channel.read(&mut buffer) {
        Ok(0) => None,
        Ok(n) => Some(lines.push(&buffer[..n])),
        Err(error)
            if error.kind() == ErrorKind::Interrupted || error.kind() == ErrorKind::WouldBlock =>
        {
            Some(Vec::new())
        }
        Err(error) => {
            tracing::debug!("IPC channel: {error}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_and_listening_are_recognised() {
        assert_eq!(Message::parse(br#""ready""#), Message::Ready);
        assert_eq!(
            Message::parse(br#"{"nodeunits":"listening","fd":3}"#),
            Message::Listening {
                fd: Some(3),
                address: None
            }
        );
        assert_eq!(
            Message::parse(br#"{"nodeunits":"listening","address":"0.0.0.0:9000"}"#),
            Message::Listening {
                fd: None,
                address: Some("0.0.0.0:9000".into())
            }
        );
        assert_eq!(
            Message::parse(br#"{"cmd":"NODE_HANDLE_ACK"}"#),
            Message::Other
        );
        assert_eq!(Message::parse(br#"{"nodeunits":"beat"}"#), Message::Beat);
        assert_eq!(
            Message::parse(br#"{"nodeunits":"address-in-use","port":3000,"address":"::"}"#),
            Message::AddressInUse {
                port: 3000,
                address: Some("::".into())
            }
        );
        assert_eq!(
            Message::parse(br#"{"nodeunits":"address-in-use","port":70000}"#),
            Message::Other
        );
        assert_eq!(
            Message::parse(br#"{"nodeunits":"started","pid":4241}"#),
            Message::Started { pid: 4241 }
        );
        assert_eq!(
            Message::parse(br#"{"nodeunits":"attached","pid":4242}"#),
            Message::Attached { pid: 4242 }
        );
        for bad in [
            &br#"{"nodeunits":"attached"}"#[..],
            br#"{"nodeunits":"attached","pid":1}"#,
            br#"{"nodeunits":"attached","pid":-5}"#,
        ] {
            assert_eq!(Message::parse(bad), Message::Other);
        }
        assert_eq!(
            Message::parse(br#"{"nodeunits":"bind","id":4,"port":3000,"host":null}"#),
            Message::Bind(BindRequest {
                id: 4,
                port: 3000,
                host: None,
                ipv6_only: false
            })
        );
        assert_eq!(
            Message::parse(
                br#"{"nodeunits":"bind","id":5,"port":8080,"host":"::1","ipv6Only":true}"#
            ),
            Message::Bind(BindRequest {
                id: 5,
                port: 8080,
                host: Some("::1".parse().expect("an address")),
                ipv6_only: true
            })
        );
        for bad in [
            &br#"{"nodeunits":"bind","id":4,"port":0}"#[..],
            br#"{"nodeunits":"bind","port":3000}"#,
            br#"{"nodeunits":"bind","id":4,"port":3000,"host":"localhost"}"#,
        ] {
            assert_eq!(Message::parse(bad), Message::Other);
        }
        assert_eq!(Message::parse(br#""readyish""#), Message::Other);
        assert_eq!(Message::parse(b"not json"), Message::Other);
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(br#"{"a":1}"#), vec![]);
        assert_eq!(buffer.push(b"\n\"rea"), vec![Message::Other]);
        assert_eq!(
            buffer.push(b"dy\"\n\"ready\"\n"),
            vec![Message::Ready, Message::Ready]
        );
        assert_eq!(buffer.push(b""), vec![]);
    }

    #[test]
    fn an_endless_line_is_dropped() {
        let mut buffer = LineBuffer::default();
        assert!(buffer.push(&vec![b'x'; MAX_LINE + 1]).is_empty());
        assert_eq!(buffer.push(b"\"ready\"\n"), vec![Message::Ready]);
    }

    #[test]
    fn messages_to_the_app_are_json_lines() {
        assert_eq!(encode("shutdown"), b"\"shutdown\"\n");
    }
}
