//! `autostart`: an app apply installs without enabling or starting it.

use super::test_support::{model, rendered, Dir, SOURCE};
use crate::units::RenderedApp;

fn autostarting(autostart: bool) -> RenderedApp {
    let mut units = model(SOURCE, "api", 2, &["127.0.0.1:3000"], "v1");
    units.autostart = autostart;
    RenderedApp::new(units).unwrap()
}

#[test]
fn an_app_without_autostart_is_installed_but_neither_enabled_nor_started() {
    let dir = Dir::new("no-autostart");
    assert_eq!(
        dir.apply(&rendered(vec![autostarting(false)])),
        ["daemon-reload"]
    );
    let app_unit = dir.0.read_file("api.service").unwrap().unwrap();
    assert!(
        app_unit.contains("\nX-Nodeunits-Autostart=no\n"),
        "{app_unit}"
    );
    let name = crate::model::AppName::new("api").unwrap();
    let installed = dir.0.read().unwrap().app(&name).unwrap().unwrap();
    assert!(!installed.autostart);
    assert_eq!(
        dir.apply(&rendered(vec![autostarting(false)])),
        Vec::<String>::new()
    );
}

#[test]
fn autostart_turned_on_enables_and_starts_the_app_and_turned_off_disables_it() {
    let dir = Dir::new("autostart-changes");
    dir.apply(&rendered(vec![autostarting(false)]));
    assert_eq!(
        dir.apply(&rendered(vec![autostarting(true)])),
        [
            "daemon-reload",
            "enable api.socket api.service",
            "start api.socket",
            "start api@0.service api@1.service",
            "start api.service",
        ]
    );
    assert_eq!(
        dir.apply(&rendered(vec![autostarting(false)])),
        ["daemon-reload", "disable api.socket api.service"]
    );
}
