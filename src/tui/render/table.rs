//! The connection table. Failed rows stand out; columns give way on narrow terminals.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};
use ratatui::Frame;

use crate::live::ConnView;
use crate::tui::state::{self, Focus, SortColumn, UiState};

fn cell(col: SortColumn, v: &ConnView) -> Cell<'static> {
    let r = &v.record;
    match col {
        SortColumn::Start => Cell::from(r.start.clock()),
        SortColumn::Client => Cell::from(r.client.to_string()),
        SortColumn::Server => Cell::from(r.server.to_string()),
        SortColumn::User => Cell::from(super::clean(r.cookie.as_deref().unwrap_or(""))),
        SortColumn::Security => Cell::from(state::security(v)),
        SortColumn::Phase => Cell::from(r.phase_label()),
        SortColumn::Outcome => {
            let w = state::outcome_word(v);
            Cell::from(w).style(super::outcome_style(w))
        }
        SortColumn::Cause => Cell::from(state::cause(v).to_string()),
        SortColumn::Rtt => Cell::from(
            r.tcp
                .as_ref()
                .and_then(|t| t.handshake_rtt_ms)
                .map_or(String::new(), |ms| format!("{ms:.1}")),
        ),
    }
}

fn width(col: SortColumn) -> Constraint {
    match col {
        SortColumn::Start => Constraint::Length(12),
        SortColumn::Client | SortColumn::Server => Constraint::Length(21),
        SortColumn::User => Constraint::Length(10),
        SortColumn::Security => Constraint::Length(11),
        SortColumn::Phase => Constraint::Length(7),
        SortColumn::Outcome => Constraint::Length(10),
        SortColumn::Cause => Constraint::Min(12),
        SortColumn::Rtt => Constraint::Length(8),
    }
}

/// Columns that fit: at 80 columns the server and phase give way.
fn columns(w: u16) -> Vec<SortColumn> {
    use SortColumn::*;
    if w >= 130 {
        SortColumn::ALL.to_vec()
    } else if w >= 100 {
        vec![Start, Client, Server, User, Security, Outcome, Cause]
    } else {
        vec![Start, Client, User, Security, Outcome, Cause]
    }
}

pub fn render(f: &mut Frame<'_>, area: Rect, rows: &[&ConnView], selected: usize, st: &UiState) {
    let cols = columns(area.width);
    let arrow = if st.descending { "▼" } else { "▲" };
    let header = Row::new(cols.iter().map(|c| {
        let t = if *c == st.sort {
            format!("{}{arrow}", c.title())
        } else {
            c.title().to_string()
        };
        Cell::from(t)
    }))
    .style(Style::default().add_modifier(Modifier::BOLD).fg(Color::Cyan));
    let body = rows.iter().map(|v| {
        let row = Row::new(cols.iter().map(|c| cell(*c, v)));
        if v.record.outcome == crate::diagnosis::Outcome::Failed {
            row.style(Style::default().fg(Color::LightRed))
        } else {
            row
        }
    });
    let mut title = format!(" Connections ({}) ", rows.len());
    if st.failed_only {
        title.push_str("[failed only] ");
    }
    if !st.filter.is_empty() {
        title.push_str(&format!("[filter: {}] ", st.filter));
    }
    let table = Table::new(body, cols.iter().map(|c| width(*c)))
        .header(header)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(super::focused_border(st.focus == Focus::Table)),
        )
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶");
    let mut ts = TableState::default();
    if !rows.is_empty() {
        ts.select(Some(selected));
    }
    f.render_stateful_widget(table, area, &mut ts);
}
