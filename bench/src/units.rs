//! The ecosystem file `nodeunits apply` reads for one benchmark app: the
//! same options PM2 gets. The apps run as root, as PM2's do in its box (PM2
//! runs them as the user who starts it), in nodeunits' sandbox unless the
//! measure is of the sandbox's cost.

use crate::apps::{App, Logging};

/// The ecosystem file `nodeunits apply` reads for this app.
pub fn ecosystem(app: &App) -> String {
    let mut toml = format!(
        "[[apps]]\nname = \"{}\"\nscript = \"{}\"\ninstances = {}\nexec_mode = \"cluster\"\n\
         listen = [\"127.0.0.1:{}\"]\nwait_ready = {}\nkill_timeout = {}\nlisten_timeout = {}\n\
         user = \"root\"\n",
        app.name,
        app.script_path().display(),
        app.instances,
        app.port,
        app.wait_ready,
        app.kill_timeout_ms,
        app.listen_timeout_ms,
    );
    if !app.runtime_metrics {
        toml.push_str("pmx = false\n");
    }
    if !app.sandbox {
        toml.push_str("hardening = \"off\"\n");
    }
    if let Some(mb) = app.max_memory_mb {
        toml.push_str(&format!("max_memory_restart = \"{mb}M\"\n"));
    }
    if let Logging::RotatedFile { path, rotation } = &app.logging {
        toml.push_str(&format!(
            "out_file = \"{}\"\nmerge_logs = true\n\
             log_rotate = {{ max_size = \"{}\", retain = {}, compress = {} }}\n",
            path.display(),
            rotation.max_size,
            rotation.retain,
            rotation.compress
        ));
    }
    if let Some(cwd) = &app.cwd {
        toml.push_str(&format!("cwd = \"{}\"\n", cwd.display()));
    }
    match app.watch {
        Some(true) => toml.push_str("watch = true\n"),
        Some(false) => toml.push_str("watch = true\nignore_watch = []\n"),
        None => {}
    }
    toml.push_str("\n[apps.env]\n");
    for (key, value) in app.env() {
        toml.push_str(&format!("{key} = \"{value}\"\n"));
    }
    toml
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::apps::Rotation;

    #[test]
    fn the_ecosystem_file_carries_the_options_pm2_gets() {
        let toml = ecosystem(&App::leaking());
        for line in [
            "name = \"leaking\"",
            "instances = 2",
            "listen = [\"127.0.0.1:3000\"]",
            "wait_ready = true",
            "kill_timeout = 1600",
            "listen_timeout = 3000",
            "max_memory_restart = \"150M\"",
            "LEAK_MB_PER_S = \"25\"",
            "user = \"root\"",
        ] {
            assert!(
                toml.lines().any(|l| l == line),
                "{line:?} missing from:\n{toml}"
            );
        }
        assert!(!toml.contains("hardening"), "{toml}");
        let toml = ecosystem(&App::hello().without_sandbox());
        assert!(toml.lines().any(|l| l == "hardening = \"off\""), "{toml}");
        assert!(!toml.contains("pmx"), "{toml}");
        let toml = ecosystem(&App::hello().without_runtime_metrics());
        assert!(toml.lines().any(|l| l == "pmx = false"), "{toml}");
        let toml = ecosystem(
            &App::burst(100, 5, "t1").logging_to(Path::new("/srv/b/logs"), Rotation::small()),
        );
        for line in [
            "out_file = \"/srv/b/logs/out.log\"",
            "merge_logs = true",
            "log_rotate = { max_size = \"2M\", retain = 10, compress = true }",
            "BURST_LINES = \"100\"",
            "RUN_TAG = \"t1\"",
        ] {
            assert!(
                toml.lines().any(|l| l == line),
                "{line:?} missing from:\n{toml}"
            );
        }
    }
}
