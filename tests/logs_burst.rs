//! No line lost in the journal, on a real systemd: two workers each print
//! 60,000 numbered lines as fast as they can (an app in an error loop, a
//! verbose deploy), under the default logging, and every line is in the
//! journal, each once. The same burst under a limit as low as journald's
//! own loses lines: the burst is one the default must be there for.

mod apply_support;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/burst";
const LINES: u32 = 60_000;

/// Prints LINES numbered lines, waiting only when the stream is full, then
/// stays up.
const BURST_JS: &str = r#"const instance = process.env.NODE_APP_INSTANCE;
let i = 0;
function write() {
  while (i < 60000) {
    const more = process.stdout.write(`burst ${instance} line ${i}\n`);
    i++;
    if (!more) return process.stdout.once('drain', write);
  }
}
write();
setInterval(() => {}, 1 << 30);
"#;

/// The lines of `unit` in the journal that the burst printed, and how many
/// of them differ.
fn lines_in_journal(host: &TestHost, unit: &str, instance: u32) -> (u32, u32) {
    let lines = format!("journalctl -u {unit} -o cat --no-pager | grep '^burst {instance} line '");
    let count = host.ok(&format!("{lines} | wc -l"));
    let distinct = host.ok(&format!("{lines} | sort -u | wc -l"));
    (
        count.trim().parse().unwrap(),
        distinct.trim().parse().unwrap(),
    )
}

/// Waits until the journal holds the lines of `unit`'s burst and stops
/// growing; returns their count and how many differ.
fn settled(host: &TestHost, unit: &str, instance: u32) -> (u32, u32) {
    let mut last = (0, 0);
    for _ in 0..60 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        host.ok("journalctl --sync");
        let now = lines_in_journal(host, unit, instance);
        if now.0 == LINES || (now == last && now.0 > 0) {
            return now;
        }
        last = now;
    }
    last
}

#[test]
fn a_burst_of_two_workers_reaches_the_journal_whole() {
    let host = TestHost::boot("logs-burst");
    host.write(&format!("{DIR}/burst.js"), BURST_JS);
    host.write(
        &format!("{DIR}/ecosystem.toml"),
        "[[apps]]\nname = \"burst\"\nscript = \"burst.js\"\ninstances = 2\n\n\
         [[apps]]\nname = \"limited\"\nscript = \"burst.js\"\ninstances = 1\n\
         log_rate_limit_burst = 5000\n",
    );
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    for instance in 0..2 {
        let unit = format!("burst@{instance}.service");
        assert_eq!(
            settled(&host, &unit, instance),
            (LINES, LINES),
            "{unit}: every line, each once"
        );
    }
    let (kept, _) = settled(&host, "limited@0.service", 0);
    assert!(kept < LINES, "a limit of 5000 lines kept all {kept}");
}
