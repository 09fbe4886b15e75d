//! `nodeunits import` on every golden case that compiles, through the real
//! binary: the TOML it prints, beside the original, renders exactly the
//! units the original renders, in every format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nodeunits::units::compile;

use super::{case_name, cases, compiles, ecosystem, golden_dir, options, unprivileged};

/// `from` copied into `to`, recursively.
pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    for entry in std::fs::read_dir(from).expect("read a directory") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy a file");
        }
    }
}

/// The units of `file`, by name, with the name of the file itself made
/// `ECOSYSTEM` (it is in their header and `SourcePath=`).
fn units(file: &Path, case: &Path) -> (BTreeMap<String, String>, usize) {
    let rendered = compile(file, &options(case))
        .unwrap_or_else(|err| panic!("{} does not compile:\n{err}", file.display()));
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let files = rendered
        .apps
        .iter()
        .flat_map(|app| &app.files)
        .map(|f| (f.name.clone(), f.contents.replace(&name, "ECOSYSTEM")))
        .collect();
    // A `.json` file evaluated as JavaScript is said so; its import is TOML.
    let about_the_apps =
        |warning: &&String| !warning.contains("evaluated as a JavaScript expression");
    (
        files,
        rendered.warnings.iter().filter(about_the_apps).count(),
    )
}

#[test]
fn the_import_renders_the_same_units_as_the_original() {
    let root =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // `../../bin` of the cases is there too.
    copy_dir(&golden_dir().join("bin"), &root.join("bin"));
    let mut formats = std::collections::BTreeSet::new();
    for case in cases().into_iter().filter(|case| compiles(case)) {
        let name = case_name(&case);
        let input = root.join(&name).join("input");
        copy_dir(&case.join("input"), &input);
        unprivileged(&input);
        let original = input.join(ecosystem(&case).file_name().unwrap());
        let options = options(&case);
        let mut import = Command::new(env!("CARGO_BIN_EXE_nodeunits"));
        import
            .arg("import")
            .arg(original.file_name().unwrap())
            .current_dir(&input)
            .env_clear()
            .envs(&options.facts.environment)
            .env("PATH", golden_dir().join("bin"));
        if let Some(profile) = &options.profile {
            import.args(["--env", profile]);
        }
        let output = import.output().expect("run nodeunits import");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "case {name}: {stderr}");
        assert!(stderr.is_empty(), "case {name}: {stderr}");
        let imported: PathBuf = input.join("imported.toml");
        std::fs::write(&imported, &output.stdout).expect("write the import");

        let (expected, expected_warnings) = units(&original, &case);
        let (actual, actual_warnings) = units(&imported, &case);
        assert_eq!(
            actual,
            expected,
            "case {name}: the import renders other units; it was:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert_eq!(actual_warnings, expected_warnings, "case {name}: warnings");
        formats.insert(original.extension().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(
        formats.into_iter().collect::<Vec<_>>(),
        ["js", "json", "mjs", "toml", "yaml"]
    );
    let _ = std::fs::remove_dir_all(&root);
}
