//! The resident memory of a process tree, from /proc.

use std::collections::HashMap;
use std::fs;

/// The parent pid in the text of `/proc/PID/stat`. The command name comes
/// in parentheses and may itself hold spaces and parentheses.
pub fn parent_of(stat: &str) -> Option<i32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// The resident set in bytes, from the `VmRSS:` line of `/proc/PID/status`.
pub fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kib * 1024)
}

/// Every pid below `root` in the tree given as (pid, parent) pairs.
pub fn descendants(parents: &[(i32, i32)], root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for &(pid, parent) in parents {
        children.entry(parent).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

/// The live processes below `root`, read from /proc now.
pub fn descendants_of(root: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(i32, i32)> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parent_of(&stat)?))
        })
        .collect();
    descendants(&parents, root)
}

/// The summed resident memory of the processes below `root`, in bytes.
pub fn tree_resident_bytes(root: i32) -> u64 {
    descendants_of(root)
        .into_iter()
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| resident_bytes(&status))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_follows_the_state_even_with_odd_names() {
        assert_eq!(parent_of("42 (node) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_of("42 (a) b (c) R 9 1 1"), Some(9));
        assert_eq!(parent_of("42 (node"), None);
    }

    #[test]
    fn resident_memory_is_read_in_bytes() {
        let status = "Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   1536 kB\nThreads:\t7\n";
        assert_eq!(resident_bytes(status), Some(1536 * 1024));
        assert_eq!(resident_bytes("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn descendants_cover_grandchildren_and_nothing_else() {
        let tree = [(10, 1), (11, 10), (12, 11), (13, 10), (20, 1), (21, 20)];
        let mut found = descendants(&tree, 10);
        found.sort();
        assert_eq!(found, vec![11, 12, 13]);
        assert!(descendants(&tree, 12).is_empty());
    }

    #[test]
    fn this_test_process_has_resident_memory() {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        assert!(resident_bytes(&status).unwrap() > 0);
    }
}
