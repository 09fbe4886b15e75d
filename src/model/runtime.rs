//! What the helper's PROGRAM is (docs/contract.md, `--node` and
//! `--launcher`).

/// What PROGRAM is, which decides how the preload and the IPC channel reach
/// the Node process that serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runtime {
    /// Not Node, nor a program known to start it: run as it is.
    #[default]
    Other,
    /// Node itself (`--node`): the preload by `--require`, Node's own IPC
    /// channel.
    Node,
    /// A Node program that starts the Node process that serves, such as
    /// npm, npx, yarn, pnpm or tsx (`--launcher`): the preload through
    /// `NODE_OPTIONS`, a channel of nodeunits' own, the whole tree signalled.
    Launcher,
}

impl Runtime {
    /// Whether the app's code runs in Node, with the preload.
    pub fn runs_node(self) -> bool {
        self != Runtime::Other
    }
}
