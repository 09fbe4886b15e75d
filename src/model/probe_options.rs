//! The command line of `nodeunits-helper probe` (docs/contract.md): the
//! command of a container's readiness probe, which reads the state the
//! running helper records. Parsed with the helper's own lexopt parser.

use std::ffi::OsString;

use super::helper_options::{
    app_and_instance, not_an_instance_number, ArgsError, Instance, Request,
};

/// Which worker to ask about: one instance, or every instance of the app
/// that records a state (in a pod, the one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    pub app: String,
    pub instance: Option<u32>,
}

/// The text of `probe --help`.
pub const USAGE: &str = "\
Exits 0 when the app's worker is ready, 1 while it starts or drains or when
no worker runs: a container's readiness probe.

Usage: nodeunits-helper probe --app NAME [--instance N]

Options:
  --app NAME               the app's name, as the running helper was given it
  --instance N             only this instance [default: every instance that runs]
  -h, --help               print this help
";

impl ProbeOptions {
    /// The words of the command line, `probe` first, in the order `parse` reads.
    pub fn words(&self) -> Vec<String> {
        let mut words = vec!["probe".to_owned(), "--app".to_owned(), self.app.clone()];
        if let Some(instance) = self.instance {
            words.extend(["--instance".to_owned(), instance.to_string()]);
        }
        words
    }
}

/// Reads the probe's command line, after the word `probe`.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, ArgsError> {
    let Some((app, instance)) = app_and_instance(args, "probe")? else {
        return Ok(Request::ProbeHelp);
    };
    let instance = match instance {
        None => None,
        Some(Instance::Number(number)) => Some(number),
        // A probe runs in a container, where no one expands a specifier.
        Some(Instance::Specifier) => return Err(not_an_instance_number("%i")),
    };
    let app = app.ok_or(ArgsError::Missing("probe: --app NAME"))?;
    Ok(Request::Probe(ProbeOptions { app, instance }))
}

#[cfg(test)]
mod tests {
    use super::super::helper_options::parse as parse_helper;
    use super::super::helper_options::tests::parse_words;
    use super::*;

    #[test]
    fn what_is_rendered_parses_back_the_same() {
        for instance in [None, Some(3)] {
            let options = ProbeOptions {
                app: "api".into(),
                instance,
            };
            let words = options.words().into_iter().map(OsString::from);
            assert_eq!(parse_helper(words), Ok(Request::Probe(options)));
        }
        assert_eq!(
            parse_words("probe --app=api --instance=2"),
            parse_words("probe --app api --instance 2")
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |line| parse_words(line).unwrap_err().to_string();
        assert_eq!(error("probe"), "probe: --app NAME is required");
        assert_eq!(
            error("probe --app api --instance %i"),
            "--instance: \"%i\" is not a whole number; it takes an instance number such as 0"
        );
        assert_eq!(
            error("probe --app api --node"),
            "probe: invalid option '--node'; it takes --app NAME and --instance N"
        );
        assert_eq!(parse_words("probe --help"), Ok(Request::ProbeHelp));
    }

    #[test]
    fn the_usage_lists_every_option() {
        for option in ["--app NAME", "--instance N", "--help"] {
            assert!(USAGE.contains(option), "{option}");
        }
        assert!(
            super::super::helper_options::usage().contains("probe --app NAME"),
            "the helper's own usage points to the probe"
        );
    }
}
