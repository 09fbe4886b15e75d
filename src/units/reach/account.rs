//! The account a worker runs as, with the groups the kernel checks.

use std::ffi::CString;

use nix::unistd::{getgrouplist, getuid, Gid, Group, Uid, User};

/// A user as the kernel sees them when they open a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub name: String,
    pub uid: u32,
    /// The primary group first, then the supplementary ones.
    pub gids: Vec<u32>,
}

impl Who {
    /// The account of `User=` (a name or a number) with `Group=`, as
    /// systemd starts a worker: `Group=`, or the user's own group, and the
    /// user's supplementary groups. `None` when the user does not exist.
    pub fn named(user: &str, group: Option<&str>) -> Option<Who> {
        let account = match User::from_name(user).ok().flatten() {
            Some(account) => account,
            None => User::from_uid(Uid::from_raw(user.parse().ok()?)).ok()??,
        };
        let primary = match group {
            None => account.gid,
            Some(group) => match Group::from_name(group).ok().flatten() {
                Some(found) => found.gid,
                None => Gid::from_raw(group.parse().ok()?),
            },
        };
        Some(Who::with_groups(account, primary))
    }

    /// The user running this process (user mode: the workers are theirs).
    pub fn this_process() -> Option<Who> {
        let account = User::from_uid(getuid()).ok()??;
        let primary = account.gid;
        Some(Who::with_groups(account, primary))
    }

    fn with_groups(account: User, primary: Gid) -> Who {
        let mut gids = vec![primary.as_raw()];
        let supplementary = CString::new(account.name.as_str())
            .ok()
            .and_then(|name| getgrouplist(&name, account.gid).ok())
            .unwrap_or_default();
        gids.extend(supplementary.into_iter().map(Gid::as_raw));
        gids.dedup();
        Who {
            name: account.name,
            uid: account.uid.as_raw(),
            gids,
        }
    }
}

/// The name of the account `uid`, else the number.
pub(super) fn user_name(uid: u32) -> String {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |user| user.name)
}
