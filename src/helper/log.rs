//! The helper's own log lines: to journald under the app's identifier, or
//! to stderr where there is no journal.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(app: &str) {
    match tracing_journald::layer() {
        Ok(journal) => tracing_subscriber::registry()
            .with(journal.with_syslog_identifier(app.to_owned()))
            .with(LevelFilter::INFO)
            .init(),
        Err(_) => tracing_subscriber::fmt()
            .with_max_level(LevelFilter::INFO)
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .init(),
    }
}
