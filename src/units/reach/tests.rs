use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::*;

/// A directory tree of its own under the temporary directory, removed at
/// the end; paths are made with their modes, owned by the user running the
/// tests or, when that is root (whom every path lets through), by 54321.
struct Tree(PathBuf);

fn own(path: &Path) {
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(path, Some(54321), Some(54321)).unwrap();
    }
}

impl Tree {
    fn new(name: &str) -> Tree {
        let root =
            std::env::temp_dir().join(format!("nodeunits-reach-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        own(&root);
        Tree(root)
    }

    fn dir(&self, path: &str, mode: u32) -> PathBuf {
        let dir = self.0.join(path);
        fs::create_dir_all(&dir).unwrap();
        for made in dir.ancestors().take_while(|d| d.starts_with(&self.0)) {
            own(made);
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    fn file(&self, path: &str, mode: u32) -> PathBuf {
        let file = self.0.join(path);
        fs::write(&file, "#!/bin/sh\n").unwrap();
        own(&file);
        fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
        file
    }

    /// Its owner (whoever runs the tests), in its group.
    fn owner(&self) -> Who {
        let meta = self.0.metadata().unwrap();
        Who {
            name: "owner".into(),
            uid: meta.uid(),
            gids: vec![meta.gid()],
        }
    }

    /// Another user, in the tree's group or not.
    fn other(&self, in_group: bool) -> Who {
        let owner = self.owner();
        Who {
            name: "alice".into(),
            uid: owner.uid + 4242,
            gids: if in_group {
                vec![owner.gids[0] + 4242, owner.gids[0]]
            } else {
                vec![owner.gids[0] + 4242]
            },
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn denied_dir(path: &Path, mode: u32, class: char, owner: &Who) -> Option<Blocked> {
    Some(Blocked::Directory(Denied {
        path: path.to_path_buf(),
        mode,
        owner: owner.uid,
        class,
    }))
}

#[test]
fn every_user_reaches_a_program_in_open_directories() {
    let tree = Tree::new("open");
    tree.dir("usr/lib/bin", 0o755);
    let helper = tree.file("usr/lib/bin/helper", 0o755);
    for who in [tree.other(false), tree.other(true), tree.owner()] {
        assert_eq!(blocker(&helper, &who, Need::Execute), None, "{who:?}");
    }
}

#[test]
fn a_home_directory_of_mode_0700_stops_everyone_but_its_owner() {
    let tree = Tree::new("home");
    let home = tree.dir("home/alice", 0o700);
    tree.dir("home/alice/nodeunits/target/debug", 0o755);
    let helper = tree.file("home/alice/nodeunits/target/debug/helper", 0o755);
    let owner = tree.owner();
    assert_eq!(blocker(&helper, &owner, Need::Execute), None);
    assert_eq!(
        blocker(&helper, &tree.other(true), Need::Execute),
        denied_dir(&home, 0o700, 'o', &owner).map(|b| match b {
            Blocked::Directory(d) => Blocked::Directory(Denied { class: 'g', ..d }),
            other => other,
        })
    );
    assert_eq!(
        blocker(&helper, &tree.other(false), Need::Execute),
        denied_dir(&home, 0o700, 'o', &owner)
    );
    let root = Who {
        name: "root".into(),
        uid: 0,
        gids: vec![0],
    };
    assert_eq!(blocker(&helper, &root, Need::Execute), None);
}

#[test]
fn the_bits_of_the_users_class_apply_owner_then_group_then_others() {
    let tree = Tree::new("classes");
    let shared = tree.dir("shared", 0o750);
    let helper = tree.file("shared/helper", 0o755);
    let owner = tree.owner();
    assert_eq!(blocker(&helper, &tree.other(true), Need::Execute), None);
    assert_eq!(
        blocker(&helper, &tree.other(false), Need::Execute),
        denied_dir(&shared, 0o750, 'o', &owner)
    );
    // The owner's bits, not the others', apply to the owner.
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o075)).unwrap();
    assert_eq!(blocker(&helper, &tree.other(false), Need::Execute), None);
    assert_eq!(
        blocker(&helper, &owner, Need::Execute),
        denied_dir(&shared, 0o075, 'u', &owner)
    );
}

#[test]
fn the_file_itself_must_be_executable_or_readable_by_the_user() {
    let tree = Tree::new("file");
    let program = tree.file("program", 0o750);
    let script = tree.file("app.js", 0o640);
    let other = tree.other(false);
    let owner = tree.owner();
    let denied = |path: &Path, mode| Denied {
        path: path.to_path_buf(),
        mode,
        owner: owner.uid,
        class: 'o',
    };
    assert_eq!(
        blocker(&program, &other, Need::Execute),
        Some(Blocked::Target(denied(&program, 0o750), Need::Execute))
    );
    assert_eq!(
        blocker(&script, &other, Need::Read),
        Some(Blocked::Target(denied(&script, 0o640), Need::Read))
    );
    assert_eq!(blocker(&script, &tree.other(true), Need::Read), None);
    assert_eq!(
        blocker(&tree.0, &other, Need::Execute),
        Some(Blocked::WrongKind(tree.0.clone(), Need::Execute))
    );
    assert_eq!(blocker(&tree.0, &other, Need::Search), None);
}

#[test]
fn a_missing_path_and_the_target_of_a_symbolic_link_are_told() {
    let tree = Tree::new("links");
    let missing = tree.0.join("opt/bin/helper");
    assert_eq!(
        blocker(&missing, &tree.other(false), Need::Execute),
        Some(Blocked::Missing(tree.0.join("opt")))
    );
    // An open path whose link leads into a closed directory.
    let closed = tree.dir("closed", 0o700);
    tree.file("closed/node", 0o755);
    tree.dir("bin", 0o755);
    symlink(closed.join("node"), tree.0.join("bin/node")).unwrap();
    assert_eq!(
        blocker(&tree.0.join("bin/node"), &tree.other(false), Need::Execute),
        denied_dir(&closed, 0o700, 'o', &tree.owner())
    );
}

#[test]
fn the_message_names_the_app_the_user_the_directory_and_the_fix() {
    let unreachable = Unreachable {
        app: "hello".into(),
        user: "nobody".into(),
        what: "the helper",
        path: "/home/alice/nu/target/debug/nodeunits-helper".into(),
        blocked: Blocked::Directory(Denied {
            path: "/home/alice".into(),
            mode: 0o700,
            owner: 0,
            class: 'o',
        }),
    };
    assert_eq!(
        CannotStart(vec![unreachable]).to_string(),
        "app `hello` cannot start: its user `nobody` cannot reach the helper \
         /home/alice/nu/target/debug/nodeunits-helper: the directory /home/alice (mode 0700, \
         owner root) does not let `nobody` through: every directory on the way needs `x` for \
         the user\n  = allowed: `chmod o+x /home/alice`, or install nodeunits where every user \
         reaches it (its package, or `make install`), or render the units with `--bin-dir DIR`, \
         a directory `nobody` reaches\nnothing was started"
    );
}

#[test]
fn an_account_is_found_by_name_or_number_with_its_groups() {
    let root = Who::named("root", None).expect("root exists");
    assert_eq!((root.uid, root.gids[0]), (0, 0));
    assert_eq!(Who::named("0", Some("0")), Some(root));
    assert_eq!(Who::named("no-such-account-of-nodeunits", None), None);
}

#[test]
fn an_interpreter_in_a_closed_home_stops_the_app_and_is_named() {
    // A pyenv shim or nvm's node found through root's PATH.
    let tree = Tree::new("interpreter");
    tree.dir("root/.pyenv/shims", 0o755);
    let interpreter = tree.file("root/.pyenv/shims/python", 0o755);
    tree.dir("srv/app", 0o755);
    let script = tree.file("srv/app/tasks.py", 0o644);
    let closed = tree.dir("root", 0o700);
    let mut app = crate::systemd::test_support::model("/srv/e.toml", "tasks", 1, &[], "1");
    app.worker.helper = std::env::current_exe().unwrap();
    app.worker.options.command = [&interpreter, &script]
        .map(|p| p.as_os_str().to_owned())
        .to_vec();
    app.worker.working_directory = tree.0.join("srv/app");
    let paths = paths_of(&app);
    assert_eq!(
        paths[1],
        ("the interpreter", interpreter.clone(), Need::Execute)
    );
    assert_eq!(paths[2], ("the script", script, Need::Read));
    let other = tree.other(false);
    assert_eq!(
        blocker(&interpreter, &other, Need::Execute),
        denied_dir(&closed, 0o700, 'o', &tree.owner())
    );
}
