//! The memory watch of `--max-memory`: the tree's resident memory summed
//! every moment; over the limit, a graceful restart once this instance's
//! turn has come (one instance at a time, by the memory lock).

use std::time::Duration;

use sd_notify::NotifyState;

use super::memory_lock::MemoryLock;
use super::proc_tree;
use super::worker::notify;
use crate::model::defaults::memory_restart_line;

pub struct MemoryWatch {
    pub limit: u64,
    pub lock: Option<MemoryLock>,
}

/// How often the memory of the tree is summed.
pub const EVERY: Duration = Duration::from_millis(400);

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// Sums the tree's memory; true when it is over the limit and this
/// instance's turn to restart has come.
pub fn over_memory(
    restart_lock: &mut Option<MemoryLock>,
    memory: Option<&MemoryWatch>,
    logged: &mut bool,
) -> bool {
    let Some(memory) = memory else {
        return false;
    };
    let resident = proc_tree::tree_resident_bytes(nix::unistd::getpid().as_raw());
    if resident <= memory.limit {
        return false;
    }
    let figures = format!(
        "{} ({resident} bytes), over max_memory_restart {} ({} bytes)",
        megabytes(resident),
        megabytes(memory.limit),
        memory.limit
    );
    if !memory.lock.as_ref().is_none_or(MemoryLock::try_take) {
        if !*logged {
            let holder = memory.lock.as_ref().and_then(MemoryLock::holder);
            let holder = holder.map_or_else(
                || "another instance".to_owned(),
                |i| format!("instance {i}"),
            );
            tracing::warn!("resident memory of the app's processes is {figures}: restarting once {holder} has finished its memory restart");
            *logged = true;
        }
        notify(&[NotifyState::Status(
            "over memory: waiting for another instance's memory restart",
        )]);
        return false;
    }
    tracing::warn!("{}", memory_restart_line(&figures));
    notify(&[NotifyState::Status(&format!(
        "over memory: {figures}: draining"
    ))]);
    // This process holds the lock now; its replacement releases it.
    *restart_lock = None;
    true
}
