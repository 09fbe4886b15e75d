//! The words `describe` and the export use for installed values.

use crate::model::LogTarget;

pub fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// "80.0 MB (83886080 bytes)", as the helper writes its figures.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB ({bytes} bytes)", bytes as f64 / 1_048_576.0)
}

/// Where a stream goes.
pub fn log_destination(target: Option<&LogTarget>) -> String {
    match target {
        None => "the journal".to_owned(),
        Some(LogTarget::Null) => "discarded".to_owned(),
        Some(LogTarget::Append(file)) => format!("appended to {}", file.display()),
        Some(LogTarget::PerWorker(file)) => {
            format!("appended to {} (one file per worker)", file.display())
        }
    }
}

/// What a pod does with a stream the units append to a file.
pub fn log_unmapped(key: &str, file: Option<&std::path::Path>) -> Option<String> {
    file.map(|path| {
        format!(
            "{key}: the output goes to the container's log (`kubectl logs`), not to {}",
            path.display()
        )
    })
}

/// Exit statuses, as `RestartPreventExitStatus=` lists them.
pub fn exit_codes(codes: &[u8]) -> String {
    let codes: Vec<String> = codes.iter().map(u8::to_string).collect();
    codes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_read_as_the_helper_writes_them() {
        assert_eq!(megabytes(83_886_080), "80.0 MB (83886080 bytes)");
        assert_eq!(log_destination(None), "the journal");
        assert_eq!(
            log_destination(Some(&LogTarget::Append("/var/log/a.log".into()))),
            "appended to /var/log/a.log"
        );
    }
}
