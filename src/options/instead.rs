//! What happens instead of an option nodeunits ignores, where several
//! options share the words.

pub(super) const AGENT: &str =
    "there is no PM2 monitoring agent; systemd accounts memory and CPU per worker";
pub(super) const NOT_READ: &str = "PM2 does not read it either";
pub(super) const NO_AGENT: &str = "there is no PM2 monitoring agent";
