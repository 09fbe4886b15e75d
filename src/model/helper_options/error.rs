//! What can be wrong with the helper's command line, each worded once.

use std::ffi::OsString;

/// A mistake on the helper's command line (`nodeunits-helper`, `probe`,
/// `replace`), saying what the option takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// lexopt's own words: a value missing, or one given to a flag.
    #[error("{0}")]
    Parser(String),
    /// An option or a word the helper does not take, in lexopt's words.
    #[error("{0}; see --help for the options")]
    Unexpected(String),
    /// The same, after a subcommand.
    #[error("{subcommand}: {unexpected}; it takes --app NAME and --instance N")]
    UnexpectedAfter {
        subcommand: &'static str,
        unexpected: String,
    },
    /// A required option, as the usage writes it, after its subcommand if
    /// any: `--app NAME`, `probe: --app NAME`.
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("no program to run: give it after `--`, as in `-- /usr/bin/node app.js`")]
    NoProgram,
    #[error("{option}: {value:?} is not valid UTF-8")]
    NotUtf8 {
        option: &'static str,
        value: OsString,
    },
    /// `what`: what the option takes, as in "milliseconds".
    #[error("{option}: {value:?} is not a whole number; it takes {what}")]
    NotANumber {
        option: &'static str,
        value: String,
        what: &'static str,
    },
    #[error(
        "--node and --launcher exclude each other: --node when PROGRAM is node, \
         --launcher when it is a program that starts Node (npm, npx, yarn...)"
    )]
    RuntimesExclusive,
    /// Words that ask for help, a version or a subcommand where the options
    /// of a worker were expected (reading a unit file back).
    #[error("no options to run a worker")]
    NotARun,
}

impl From<lexopt::Error> for ArgsError {
    fn from(err: lexopt::Error) -> Self {
        ArgsError::Parser(err.to_string())
    }
}
