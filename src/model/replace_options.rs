//! The command line of `nodeunits-helper replace` (docs/contract.md): a
//! worker's `ExecReload=`. It asks the running helper ($MAINPID) to start a
//! successor of the app, wait until it is ready, then drain the old process;
//! it waits for the outcome, so that `systemctl reload app@N` returns once
//! the new process serves and the old one is gone.

use std::ffi::OsString;

use super::helper_options::{app_and_instance, ArgsError, Instance, Request};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceOptions {
    pub app: String,
    /// `%i` in the unit file; the number once systemd expanded it.
    pub instance: Instance,
}

/// The text of `replace --help`.
pub const USAGE: &str = "\
Replaces the app's process of one running worker: the successor starts and
is ready before the old process drains. A worker unit's ExecReload=; it finds
the worker's helper in $MAINPID, which systemd sets for ExecReload=.

Usage: nodeunits-helper replace --app NAME --instance N

Options:
  --app NAME               the app's name, as the running helper was given it
  --instance N             the worker's instance number (%i)
  -h, --help               print this help
";

impl ReplaceOptions {
    /// The words of the command line, `replace` first, in the order `parse` reads.
    pub fn escaped_words(&self, escape: impl Fn(&str) -> String) -> Vec<String> {
        vec![
            "replace".to_owned(),
            "--app".to_owned(),
            escape(&self.app),
            "--instance".to_owned(),
            self.instance.to_string(),
        ]
    }
}

/// Reads the command line after the word `replace`.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, ArgsError> {
    let Some((app, instance)) = app_and_instance(args, "replace")? else {
        return Ok(Request::ReplaceHelp);
    };
    Ok(Request::Replace(ReplaceOptions {
        app: app.ok_or(ArgsError::Missing("replace: --app NAME"))?,
        instance: instance.ok_or(ArgsError::Missing("replace: --instance N"))?,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::helper_options::parse as parse_helper;
    use super::super::helper_options::tests::parse_words;
    use super::*;

    #[test]
    fn what_is_rendered_parses_back_the_same() {
        for instance in [Instance::Specifier, Instance::Number(3)] {
            let options = ReplaceOptions {
                app: "api".into(),
                instance,
            };
            let words = options.escaped_words(str::to_owned);
            let words = words.into_iter().map(OsString::from);
            assert_eq!(parse_helper(words), Ok(Request::Replace(options)));
        }
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |line| parse_words(line).unwrap_err().to_string();
        assert_eq!(
            error("replace --instance 0"),
            "replace: --app NAME is required"
        );
        assert_eq!(
            error("replace --app api"),
            "replace: --instance N is required"
        );
        assert_eq!(
            error("replace --app api --instance x"),
            "--instance: \"x\" is not a whole number; it takes an instance number such as 0"
        );
        assert_eq!(
            error("replace --app api --instance 0 --node"),
            "replace: invalid option '--node'; it takes --app NAME and --instance N"
        );
        assert_eq!(parse_words("replace --help"), Ok(Request::ReplaceHelp));
    }
}
