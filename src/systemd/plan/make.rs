//! Making plans: the rendered (or rescaled, or no) files of each app
//! against the installed ones, as they were before any unfinished apply of
//! it, also putting right what such an apply left otherwise on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{AppPlan, Change, FileChange, Plan, PlanError};
use crate::model::{AppName, AppUnits};
use crate::systemd::unit_dir::{Installed, InstalledFile};
use crate::units::read::ReadError;
use crate::units::{Rendered, RenderedApp};

/// The installed units of `app`, read back.
fn read_installed(app: &AppName, installed: &Installed) -> Result<Option<AppUnits>, PlanError> {
    installed
        .app(app)
        .map_err(|err| PlanError::Unreadable(app.clone(), err))
}

/// The files of the app as installed: `now`, and `before` any unfinished
/// apply of it began (the same when there is none).
struct Views<'a> {
    now: &'a Installed,
    before: &'a Installed,
}

impl Views<'_> {
    /// The changes that make the app's files `target` (in order): each
    /// file that differs from `before`, or from the disk, where an
    /// unfinished apply may have left it otherwise; with its contents
    /// `before`, which a rollback puts back.
    fn changes(
        &self,
        app: &AppName,
        target: &[(&str, &str)],
        dir: &Path,
    ) -> Result<(Change, Vec<FileChange>), PlanError> {
        let (before, now) = (self.before.app_files(app), self.now.app_files(app));
        let mut names: Vec<&str> = target.iter().map(|(name, _)| *name).collect();
        let env_file = app.units().environment_file();
        if self.now.private.contains(&env_file) {
            return Err(PlanError::Private {
                app: app.clone(),
                path: dir.join(env_file),
            });
        }
        if let Some(name) = names.iter().find(|name| self.now.foreign.contains(**name)) {
            return Err(PlanError::Foreign {
                app: app.clone(),
                path: dir.join(name),
            });
        }
        let extra: BTreeSet<&str> = before.keys().chain(now.keys()).copied().collect();
        names.extend(
            extra
                .into_iter()
                .filter(|name| !target.iter().any(|(t, _)| t == name)),
        );
        let contents = |files: &BTreeMap<&str, &InstalledFile>, name: &str| {
            files.get(name).map(|file| file.contents.clone())
        };
        let files: Vec<FileChange> = names
            .into_iter()
            .filter_map(|name| {
                let wanted = target
                    .iter()
                    .find(|(t, _)| *t == name)
                    .map(|(_, c)| c.to_string());
                let previous = contents(&before, name);
                let differs = wanted != previous || wanted != contents(&now, name);
                differs.then(|| FileChange {
                    name: name.to_owned(),
                    contents: wanted,
                    previous,
                })
            })
            .collect();
        let change = if target.is_empty() {
            Change::Removed
        } else if before.is_empty() {
            Change::Created
        } else if files.is_empty() {
            Change::Unchanged
        } else {
            Change::Changed
        };
        Ok((change, files))
    }

    fn plan_app(&self, rendered: &RenderedApp, dir: &Path) -> Result<AppPlan, PlanError> {
        let app = &rendered.units.name;
        let target: Vec<(&str, &str)> = rendered
            .files
            .iter()
            .map(|file| (file.name.as_str(), file.contents.as_str()))
            .collect();
        let (change, files) = self.changes(app, &target, dir)?;
        let before = match change {
            Change::Changed => read_installed(app, self.before)?,
            _ => (change != Change::Created).then(|| rendered.units.clone()),
        };
        Ok(AppPlan {
            app: app.clone(),
            change,
            files,
            before,
            after: Some(rendered.units.clone()),
            unfinished: self.now.unfinished.get(app).cloned(),
        })
    }

    /// Removing an app needs nothing of its files but their names: an app
    /// whose files cannot be read back is still removed.
    fn plan_removal(&self, app: &AppName, dir: &Path) -> Result<AppPlan, PlanError> {
        let (change, files) = self.changes(app, &[], dir)?;
        Ok(AppPlan {
            app: app.clone(),
            change,
            files,
            before: self.before.app(app).ok().flatten(),
            after: None,
            unfinished: self.now.unfinished.get(app).cloned(),
        })
    }
}

/// The plan that deletes one installed app (`nodeunits delete`), or `None`
/// when no generated file belongs to it.
pub fn removal(
    app: &AppName,
    installed: &Installed,
    dir: &Path,
) -> Result<Option<Plan>, PlanError> {
    let before = installed.before_unfinished();
    let views = Views {
        now: installed,
        before: &before,
    };
    let files = before
        .app_files(app)
        .into_values()
        .chain(installed.app_files(app).into_values());
    let Some(any) = files.last() else {
        return Ok(None);
    };
    Ok(Some(Plan {
        source: any.source.clone().unwrap_or_default(),
        apps: vec![views.plan_removal(app, dir)?],
    }))
}

/// The plan of `nodeunits scale`: the installed app unit rendered again
/// from its model, wanting `count` instances; `None` when the app is not
/// installed. Only the app unit changes, whatever else differs; an
/// unfinished apply's other files are put back as they were before it.
pub fn scaling(
    app: &AppName,
    installed: &Installed,
    count: u32,
    dir: &Path,
) -> Result<Option<Plan>, PlanError> {
    let before = installed.before_unfinished();
    let Some(mut units) = read_installed(app, &before)? else {
        return Ok(None);
    };
    if units.worker.options.sticky && units.instances != count {
        return Err(PlanError::StickyScale(app.clone()));
    }
    units.instances = count;
    units.scaled = true;
    let source = units.source.clone();
    let rendered = RenderedApp::new(units).map_err(|why| {
        let what = format!("it holds {}", why.0);
        let file = app.units().app();
        PlanError::Unreadable(
            app.clone(),
            ReadError {
                file,
                line: None,
                what,
            },
        )
    })?;
    let app_unit = app.units().app();
    let installed_files = before.app_files(app);
    let target: Vec<(&str, &str)> = installed_files
        .iter()
        .map(|(name, file)| (*name, file.contents.as_str()))
        .map(
            |(name, contents)| match rendered.files.iter().find(|f| f.name == name) {
                Some(file) if name == app_unit => (name, file.contents.as_str()),
                _ => (name, contents),
            },
        )
        .collect();
    let views = Views {
        now: installed,
        before: &before,
    };
    let (change, files) = views.changes(app, &target, dir)?;
    let plan = AppPlan {
        app: app.clone(),
        change,
        files,
        before: read_installed(app, &before)?,
        after: Some(rendered.units),
        unfinished: installed.unfinished.get(app).cloned(),
    };
    Ok(Some(Plan {
        source,
        apps: vec![plan],
    }))
}

/// PM2's names of an app of the file and of the installed app whose units
/// have the same name, when either differs from it: `OtherSource`'s words.
fn pm2_names(ours: &AppUnits, theirs: Option<&AppUnits>) -> String {
    let theirs_name = theirs.and_then(|units| units.pm2_name.as_ref());
    if ours.pm2_name.is_none() && theirs_name.is_none() {
        return String::new();
    }
    let name =
        |pm2: Option<&String>| pm2.map_or(ours.name.to_string(), |n| n.escape_debug().to_string());
    format!(
        " (the app `{}` of this file and the app `{}` installed both get units named `{}`)",
        name(ours.pm2_name.as_ref()),
        name(theirs_name),
        ours.name
    )
}

/// Compares the rendered units with the installed ones, as they were before
/// any unfinished apply of them. `only`, when not empty, limits the plan to
/// these apps. `dir` only names paths in errors.
pub fn plan(
    rendered: &Rendered,
    installed: &Installed,
    only: &[String],
    dir: &Path,
) -> Result<Plan, PlanError> {
    let source = rendered.source.as_path();
    let before = installed.before_unfinished();
    let views = Views {
        now: installed,
        before: &before,
    };
    let installed_apps = before.apps();
    let ours: BTreeSet<&AppName> = installed_apps
        .iter()
        .chain(installed.apps().iter())
        .filter(|(_, from)| **from == Some(source))
        .map(|(app, _)| *app)
        .collect();
    let known: BTreeSet<&str> = rendered
        .apps
        .iter()
        .map(|a| a.units.name.as_str())
        .chain(ours.iter().map(|a| a.as_str()))
        .collect();
    if let Some(unknown) = only.iter().find(|name| !known.contains(name.as_str())) {
        let allowed = known.iter().copied().collect::<Vec<_>>().join(", ");
        return Err(PlanError::UnknownOnly(
            unknown.clone(),
            source.to_owned(),
            allowed,
        ));
    }
    let selected = |app: &AppName| only.is_empty() || only.iter().any(|o| o == app.as_str());
    let mut apps = Vec::new();
    for app in rendered.apps.iter().filter(|a| selected(&a.units.name)) {
        if let Some(Some(other)) = installed_apps.get(&app.units.name) {
            if *other != source {
                let theirs = installed.app(&app.units.name).ok().flatten();
                return Err(PlanError::OtherSource {
                    app: app.units.name.clone(),
                    other: other.to_path_buf(),
                    file: source.to_owned(),
                    names: pm2_names(&app.units, theirs.as_ref()),
                });
            }
        }
        apps.push(views.plan_app(app, dir)?);
    }
    let rendered_names: BTreeSet<&AppName> = rendered.apps.iter().map(|a| &a.units.name).collect();
    for app in ours
        .iter()
        .filter(|app| !rendered_names.contains(*app) && selected(app))
    {
        apps.push(views.plan_removal(app, dir)?);
    }
    Ok(Plan {
        source: source.to_owned(),
        apps,
    })
}
