//! Applies that do not finish: killed (a panic of the fake systemd, which
//! skips any rollback), or stopped by a signal; and the apply after them.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::fake::FakeSystemd;
use super::interrupt::Interrupt;
use super::plan::{removal, Change};
use super::test_support::{app, rendered, Dir};
use crate::model::AppName;
use crate::units::Rendered;

/// Applies `file` with a systemd that dies at `call`; returns the calls made.
fn killed_at(dir: &Dir, file: &Rendered, call: &str) -> Vec<String> {
    let systemd = FakeSystemd::dying(call);
    let plan = dir.plan(file);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        dir.apply_with(&plan, &systemd, &Interrupt::default())
    }));
    assert!(outcome.is_err(), "the apply died at {call}");
    systemd.calls()
}

fn journal_apps(dir: &Dir) -> Vec<String> {
    dir.1
        .read()
        .unwrap()
        .keys()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_new_app_killed_while_starting_is_started_again_by_the_next_apply() {
    let dir = Dir::new("unfinished-create");
    let file = rendered(vec![app("api", 2, &["127.0.0.1:3000"], "v1")]);
    killed_at(&dir, &file, "start api@0.service api@1.service");
    assert_eq!(journal_apps(&dir), ["api"]);
    let plan = dir.plan(&file);
    assert_eq!(
        plan.to_string(),
        "api: created (2 instances); finishing an earlier apply of it that did not end\n"
    );
    assert_eq!(
        dir.apply(&file),
        [
            "stop api@0.service api@1.service api.socket api.service",
            "daemon-reload",
            "enable api.socket api.service",
            "start api.socket",
            "start api@0.service api@1.service",
            "start api.service",
        ]
    );
    assert!(journal_apps(&dir).is_empty(), "the entry is gone");
    assert_eq!(dir.apply(&file), Vec::<String>::new(), "done: nothing more");
}

#[test]
fn a_rollout_killed_halfway_rolls_every_instance_on_the_next_apply() {
    let dir = Dir::new("unfinished-roll");
    dir.apply(&rendered(vec![app("api", 3, &[], "v1")]));
    let v2 = rendered(vec![app("api", 3, &[], "v2")]);
    killed_at(&dir, &v2, "restart api@1.service");
    // The files on disk are v2's already: without the journal, "unchanged".
    let plan = dir.plan(&v2);
    assert_eq!(plan.apps[0].change, Change::Changed);
    assert_eq!(
        plan.to_string(),
        "api: changed (api.env); rolling reload; finishing an earlier apply of it that did not end\n"
    );
    assert_eq!(
        dir.apply(&v2),
        [
            "daemon-reload",
            "restart api@0.service",
            "restart api@1.service",
            "restart api@2.service",
            "start api@0.service api@1.service api@2.service",
            "start api.service",
        ]
    );
    assert!(journal_apps(&dir).is_empty());
}

#[test]
fn a_file_put_back_after_a_killed_rollout_puts_the_previous_units_back() {
    let dir = Dir::new("unfinished-revert");
    let v1 = rendered(vec![app("api", 2, &[], "v1")]);
    dir.apply(&v1);
    let files_v1 = dir.0.read().unwrap();
    killed_at(
        &dir,
        &rendered(vec![app("api", 4, &[], "v2")]),
        "restart api@1.service",
    );
    assert_eq!(
        dir.apply(&v1)[..5],
        [
            "stop api@2.service api@3.service",
            "daemon-reload",
            "enable api.service",
            "restart api@0.service",
            "restart api@1.service",
        ]
    );
    assert_eq!(dir.0.read().unwrap(), files_v1);
    assert_eq!(dir.apply(&v1), Vec::<String>::new());
}

#[test]
fn an_app_whose_removal_was_killed_runs_again_when_the_file_keeps_it() {
    let dir = Dir::new("unfinished-removal");
    let both = rendered(vec![
        app("api", 1, &["127.0.0.1:3000"], "v1"),
        app("web", 1, &[], "v1"),
    ]);
    dir.apply(&both);
    killed_at(
        &dir,
        &rendered(vec![app("web", 1, &[], "v1")]),
        "disable api.service api.socket",
    );
    let plan = dir.plan(&both);
    assert_eq!(
        plan.to_string(),
        "api: unchanged; finishing an earlier apply of it that did not end\nweb: unchanged\n"
    );
    assert_eq!(
        dir.apply(&both),
        [
            "daemon-reload",
            "start api.socket",
            "start api@0.service",
            "start api.service",
        ]
    );
    assert!(journal_apps(&dir).is_empty());
}

#[test]
fn delete_finishes_the_removal_of_an_app_whose_creation_was_killed() {
    let dir = Dir::new("unfinished-delete");
    killed_at(
        &dir,
        &rendered(vec![app("api", 2, &[], "v1")]),
        "start api.service",
    );
    let api = AppName::new("api").unwrap();
    let plan = removal(&api, &dir.installed(), dir.0.path())
        .unwrap()
        .unwrap();
    let systemd = FakeSystemd::default();
    dir.apply_with(&plan, &systemd, &Interrupt::default())
        .unwrap();
    assert_eq!(
        systemd.calls(),
        [
            "stop api@0.service api@1.service api.service",
            "disable api.service",
            "daemon-reload",
        ]
    );
    assert!(dir.0.read().unwrap().generated.is_empty());
    assert!(journal_apps(&dir).is_empty());
}

#[test]
fn an_app_a_person_stopped_stays_stopped_after_a_killed_change() {
    let dir = Dir::new("unfinished-stopped");
    dir.apply(&rendered(vec![app("api", 1, &[], "v1")]));
    let v2 = rendered(vec![app("api", 2, &[], "v1")]);
    let systemd = FakeSystemd::dying("start api@1.service").with_state("api.service", "inactive");
    let plan = dir.plan(&v2);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        dir.apply_with(&plan, &systemd, &Interrupt::default())
    }));
    assert!(outcome.is_err());
    assert!(!dir.1.read().unwrap()[&AppName::new("api").unwrap()].running);
    let calls = dir.apply(&v2);
    assert!(
        !calls.contains(&"start api.service".to_owned()),
        "{calls:?}"
    );
}

#[test]
fn a_signal_rolls_back_after_the_current_step_and_forgets_the_apply() {
    let dir = Dir::new("unfinished-signal");
    let v1 = rendered(vec![app("api", 2, &[], "v1")]);
    dir.apply(&v1);
    let before = dir.0.read().unwrap();
    let interrupt = Interrupt::default();
    let systemd = FakeSystemd::default().interrupting("restart api@0.service", &interrupt);
    let plan = dir.plan(&rendered(vec![app("api", 2, &[], "v2")]));
    let err = dir.apply_with(&plan, &systemd, &interrupt).unwrap_err();
    assert_eq!(err.interrupted().map(|i| i.exit_status()), Some(143));
    assert_eq!(
        err.to_string(),
        "app `api`: interrupted by SIGTERM\nthe previous unit files are back and systemd reloaded them"
    );
    assert_eq!(
        systemd.calls(),
        [
            "daemon-reload",
            "restart api@0.service",
            "daemon-reload",
            "restart api@0.service",
        ]
    );
    assert_eq!(dir.0.read().unwrap(), before);
    assert!(journal_apps(&dir).is_empty());
}

#[test]
fn a_rollback_that_fails_leaves_the_entry_for_the_next_apply() {
    let dir = Dir::new("unfinished-rollback-fails");
    let file = rendered(vec![app("api", 1, &[], "v1")]);
    let systemd = FakeSystemd::failing("daemon-reload");
    let err = dir
        .apply_with(&dir.plan(&file), &systemd, &Interrupt::default())
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the next `nodeunits apply` of the app finishes the job"),
        "{err}"
    );
    assert_eq!(journal_apps(&dir), ["api"]);
    assert_eq!(dir.apply(&file).last().unwrap(), "start api.service");
    assert!(journal_apps(&dir).is_empty());
}
