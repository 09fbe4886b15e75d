//! `nodeunits monit`: a live view of every app and instance, and the log
//! lines of the selected app, like `pm2 monit`. Read from systemd over D-Bus
//! every second and from the journal as it is written.

mod tail;
mod view;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use super::args::ManagerArgs;
use super::shared::{connect_to_read, target};
use super::shared::{installed_apps, loaded};
use crate::model::Scope;
use crate::systemd::bus::Systemd;
use crate::systemd::status::{app_status, InstanceStatus};
use crate::systemd::UnitDir;
use tail::Tail;

const REFRESH: Duration = Duration::from_secs(1);
/// How often new log lines are drawn between refreshes.
const TICK: Duration = Duration::from_millis(200);

/// One line of the table.
pub struct Row {
    pub status: InstanceStatus,
    /// Since the previous refresh; `None` on the first, or where systemd
    /// does not account CPU time.
    pub cpu_percent: Option<f64>,
}

/// What the view shows.
pub struct Monit {
    scope: Scope,
    units: UnitDir,
    rows: Vec<Row>,
    selected: usize,
    /// Each unit's CPU time at the previous refresh.
    cpu: HashMap<String, (u64, Instant)>,
    tail: Option<Tail>,
    /// Why the last refresh is incomplete.
    note: Option<String>,
}

impl Monit {
    fn refresh(&mut self, systemd: &Systemd) {
        let selected = self.selected_row().map(|row| row.status.unit.clone());
        let mut statuses = Vec::new();
        self.note = None;
        match installed_apps(&self.units) {
            Ok(apps) => {
                for app in apps {
                    match loaded(systemd, &app).map(|yes| yes.then(|| app_status(systemd, &app))) {
                        Ok(Some(Ok(rows))) => statuses.extend(rows),
                        Ok(None) => {}
                        Ok(Some(Err(err))) => self.note = Some(format!("{app}: {err}")),
                        Err(err) => self.note = Some(format!("{app}: {err:#}")),
                    }
                }
            }
            Err(err) => self.note = Some(format!("{err:#}")),
        }
        let now = Instant::now();
        let mut cpu = HashMap::new();
        self.rows = statuses
            .into_iter()
            .map(|status| {
                let cpu_percent = status.cpu_nsec.and_then(|nsec| {
                    cpu.insert(status.unit.clone(), (nsec, now));
                    let (before, then) = self.cpu.get(&status.unit)?;
                    let wall = now.duration_since(*then).as_nanos() as f64;
                    (wall > 0.0).then(|| nsec.saturating_sub(*before) as f64 / wall * 100.0)
                });
                Row {
                    status,
                    cpu_percent,
                }
            })
            .collect();
        self.cpu = cpu;
        self.selected = selected
            .and_then(|unit| self.rows.iter().position(|row| row.status.unit == unit))
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
        self.follow_selected();
    }

    fn selected_row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    /// Follows the journal of the selected row's app.
    fn follow_selected(&mut self) {
        let app = self
            .selected_row()
            .and_then(|row| crate::model::AppName::new(&row.status.app).ok());
        if app.as_ref() != self.tail.as_ref().map(|tail| &tail.app) {
            self.tail = app.map(|app| Tail::follow(self.scope, app));
        }
    }

    fn select(&mut self, step: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(step).min(last);
        self.follow_selected();
    }
}

/// The terminal in raw mode on the alternate screen, restored when dropped
/// (ratatui's panic hook restores it on a panic).
struct Screen(DefaultTerminal);

impl Screen {
    fn enter() -> anyhow::Result<Screen> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Screen(terminal)),
            Err(err) => {
                ratatui::restore();
                anyhow::bail!("cannot set up the terminal: {err}")
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.0.show_cursor();
        ratatui::restore();
    }
}

pub fn run(manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        std::io::stdout().is_terminal(),
        "monit needs a terminal; in scripts use `nodeunits status --json`"
    );
    let (scope, units) = target(manager)?;
    let systemd = connect_to_read(scope)?;
    let mut monit = Monit {
        scope,
        units,
        rows: Vec::new(),
        selected: 0,
        cpu: HashMap::new(),
        tail: None,
        note: None,
    };
    monit.refresh(&systemd);
    let mut refreshed = Instant::now();
    let mut screen = Screen::enter()?;
    loop {
        screen.0.draw(|frame| view::draw(frame, &monit))?;
        if event::poll(TICK)? {
            if let Event::Key(key) = event::read()? {
                if key.kind != KeyEventKind::Release {
                    match key.code {
                        KeyCode::Char('q') | KeyCode::Esc => break,
                        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                            break
                        }
                        KeyCode::Up | KeyCode::Char('k') => monit.select(-1),
                        KeyCode::Down | KeyCode::Char('j') => monit.select(1),
                        _ => {}
                    }
                }
            }
        }
        if refreshed.elapsed() >= REFRESH {
            monit.refresh(&systemd);
            refreshed = Instant::now();
        }
    }
    drop(screen);
    Ok(ExitCode::SUCCESS)
}
