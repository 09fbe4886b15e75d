//! The options of `nodeunits-helper` (being moved here from `helper::options`).

/// Placeholder until the helper's options move here.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HelperOptions;
