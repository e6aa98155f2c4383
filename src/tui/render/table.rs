//! The connection table. Failed rows stand out; on narrow terminals columns give way in a
//! set order (RTT, phase, security) and the others are abbreviated with "…", never cut: at
//! 80 columns start, client, server, user and the result (cause, or outcome) stay.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table, TableState};
use ratatui::Frame;

use super::text;
use crate::live::ConnView;
use crate::tui::state::{self, Focus, SortColumn, UiState};

/// A column as drawn: which one, its width, and whether it is the narrow layout's merged
/// result (the cause of a failed connection, else its outcome).
#[derive(Clone, Copy)]
struct Col {
    col: SortColumn,
    width: u16,
    merged: bool,
}

fn cell(c: Col, v: &ConnView) -> Cell<'static> {
    let r = &v.record;
    let w = usize::from(c.width);
    let (t, style) = match c.col {
        SortColumn::Start if w < 12 => (r.start.clock().chars().take(8).collect(), None),
        SortColumn::Start => (r.start.clock(), None),
        // The RDP connection a gateway tunnel carried sits indented under its leg.
        SortColumn::Client if r.via_gateway.is_some() => (
            format!("└ {}", text::middle(&r.client.to_string(), w.saturating_sub(2))),
            None,
        ),
        SortColumn::Client => (text::middle(&r.client.to_string(), w), None),
        SortColumn::Server => (text::middle(&r.server.to_string(), w), None),
        SortColumn::User => (text::end(&super::clean(r.cookie.as_deref().unwrap_or("")), w), None),
        SortColumn::Security => (text::end(&state::security(v), w), None),
        SortColumn::Phase => (text::end(&r.phase_label(), w), None),
        SortColumn::Outcome => {
            let o = state::outcome_word(v);
            (o.to_string(), Some(super::outcome_style(o)))
        }
        SortColumn::Cause if c.merged => {
            let o = state::outcome_word(v);
            let t = match state::cause(v) {
                "" => o,
                cause => cause,
            };
            (text::end(t, w), Some(super::outcome_style(o)))
        }
        SortColumn::Cause => (text::end(state::cause(v), w), None),
        SortColumn::Rtt => (
            r.tcp
                .as_ref()
                .and_then(|t| t.handshake_rtt_ms)
                .map_or(String::new(), |ms| format!("{ms:.1}")),
            None,
        ),
    };
    match style {
        Some(s) => Cell::from(t).style(s),
        None => Cell::from(t),
    }
}

fn fixed(col: SortColumn) -> u16 {
    match col {
        SortColumn::Start => 12,
        SortColumn::Client | SortColumn::Server => 21,
        SortColumn::User => 10,
        SortColumn::Security => 11,
        SortColumn::Phase => 13,
        SortColumn::Outcome => 10,
        SortColumn::Cause => 12,
        SortColumn::Rtt => 8,
    }
}

/// The columns for an inner width `w` (borders and the selection mark taken off).
fn columns(w: u16) -> Vec<Col> {
    use SortColumn::*;
    let (set, narrow): (Vec<SortColumn>, bool) = if w >= 140 {
        (SortColumn::ALL.to_vec(), false)
    } else if w >= 110 {
        (vec![Start, Client, Server, User, Security, Outcome, Cause], false)
    } else if w >= 90 {
        (vec![Start, Client, Server, User, Security, Cause], true)
    } else {
        (vec![Start, Client, Server, User, Cause], true)
    };
    let width = |c: SortColumn| match (c, narrow) {
        (Start, true) => 8,
        (Client | Server, true) => 15,
        (User, true) => 8,
        (c, _) => fixed(c),
    };
    // The cause takes what the others leave: the longest values are there.
    let used: u16 = set.iter().filter(|c| **c != Cause).map(|c| width(*c) + 1).sum();
    set.iter()
        .map(|c| Col {
            col: *c,
            width: if *c == Cause {
                w.saturating_sub(used).max(width(*c))
            } else {
                width(*c)
            },
            merged: narrow && *c == Cause,
        })
        .collect()
}

pub fn render(f: &mut Frame<'_>, area: Rect, rows: &[&ConnView], selected: usize, st: &UiState) {
    let cols = columns(area.width.saturating_sub(3));
    let arrow = if st.descending { "▼" } else { "▲" };
    let header = Row::new(cols.iter().map(|c| {
        let name = if c.merged { "Result" } else { c.col.title() };
        let sorted = c.col == st.sort || (c.merged && st.sort == SortColumn::Outcome);
        Cell::from(if sorted {
            format!("{name}{arrow}")
        } else {
            name.to_string()
        })
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
        title.push_str(&format!("[filter: {}] ", super::clean(&st.filter)));
    }
    let table = Table::new(body, cols.iter().map(|c| Constraint::Length(c.width)))
        .header(header)
        .block(super::pane(&title, st.focus == Focus::Table))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶");
    let mut ts = TableState::default();
    if !rows.is_empty() {
        ts.select(Some(selected));
    }
    f.render_stateful_widget(table, area, &mut ts);
}
