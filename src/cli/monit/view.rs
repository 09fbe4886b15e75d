//! Drawing `monit`: a title line, the table of instances, the selected
//! app's log lines.

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row as TableRow, Table, TableState};
use ratatui::Frame;

use super::{Monit, Row};
use crate::cli::status::{memory, uptime};
use crate::model::Scope;

/// The last three: what the worker's Node process publishes (`pmx`).
const HEADER: [&str; 11] = [
    "app", "id", "pid", "state", "cpu", "memory", "restarts", "uptime", "heap", "loop p99", "req/s",
];

fn cells(row: &Row) -> [String; 11] {
    let s = &row.status;
    let runtime = s.runtime.as_ref();
    [
        s.app.clone(),
        s.instance.clone(),
        if s.pid == 0 {
            "-".into()
        } else {
            s.pid.to_string()
        },
        format!("{} ({})", s.state, s.sub_state),
        row.cpu_percent.map_or("-".into(), |p| format!("{p:.1}%")),
        s.memory_bytes.map_or("-".into(), memory),
        s.restarts.to_string(),
        s.uptime_secs.map_or("-".into(), uptime),
        runtime.map_or("-".into(), |r| memory(r.heap.used)),
        runtime
            .and_then(|r| r.loop_delay)
            .map_or("-".into(), |d| format!("{:.1}ms", d.p99)),
        runtime.map_or("-".into(), |r| format!("{:.0}", r.requests_per_second())),
    ]
}

fn state_colour(state: &str) -> Color {
    match state {
        "active" => Color::Green,
        "failed" => Color::Red,
        "activating" | "deactivating" | "reloading" => Color::Yellow,
        _ => Color::DarkGray,
    }
}

pub fn draw(frame: &mut Frame, monit: &Monit) {
    let manager = match monit.scope {
        Scope::System => "system",
        Scope::User => "user",
    };
    let title = format!(
        "nodeunits monit · {manager} service manager · {} instances · ↑↓ select · q quit",
        monit.rows.len()
    );
    let table_height = (monit.rows.len() as u16 + 3)
        .min(frame.area().height / 2)
        .max(4);
    let [top, table_area, logs_area, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(table_height),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Line::from(title).style(Modifier::BOLD), top);

    let rows: Vec<[String; 11]> = monit.rows.iter().map(cells).collect();
    let mut widths = HEADER.map(|h| h.len() as u16);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count() as u16);
        }
    }
    let table_rows = monit.rows.iter().zip(rows).map(|(row, cells)| {
        TableRow::new(cells).style(Style::new().fg(state_colour(&row.status.state)))
    });
    let table = Table::new(table_rows, widths.map(Constraint::Length))
        .header(TableRow::new(HEADER).style(Modifier::BOLD))
        .block(Block::bordered().title(" apps "))
        .column_spacing(2)
        .row_highlight_style(Modifier::REVERSED)
        .highlight_symbol("> ");
    if monit.rows.is_empty() {
        let empty = format!("no app is installed in {}", monit.units.path().display());
        let block = Block::bordered().title(" apps ");
        frame.render_widget(Paragraph::new(empty).block(block), table_area);
    } else {
        let mut state = TableState::new().with_selected(Some(monit.selected));
        frame.render_stateful_widget(table, table_area, &mut state);
    }

    let (logs_title, lines) = match &monit.tail {
        Some(tail) => {
            let shown = logs_area.height.saturating_sub(2) as usize;
            let mut lines = tail.last(shown);
            if let Some(error) = &tail.error {
                lines.push(error.clone());
            }
            (format!(" {} logs ", tail.app), lines)
        }
        None => (" logs ".to_owned(), Vec::new()),
    };
    let logs: Vec<Line> = lines.into_iter().map(Line::from).collect();
    frame.render_widget(
        Paragraph::new(logs).block(Block::bordered().title(logs_title)),
        logs_area,
    );
    if let Some(note) = &monit.note {
        frame.render_widget(Line::from(note.as_str()).style(Color::Red), bottom);
    }
}
