//! Drawing: one module per widget, composed here. Everything reads the snapshot and the
//! UI state; nothing here changes them (except telling the state how tall a page is).

mod cert;
mod detail;
mod findings;
mod header;
mod help;
mod ladder;
mod rtt;
mod status;
mod table;
pub mod text;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders};
use ratatui::Frame;

use super::state::UiState;
use crate::live::Snapshot;

pub fn draw(f: &mut Frame<'_>, snap: &Snapshot, st: &mut UiState) {
    let area = f.area();
    let [header_area, table_area, detail_area, status_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Percentage(38),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);
    // The ladder gets its own view where it does not fit beside the findings.
    st.narrow = detail_area.width < detail::WIDE;
    header::render(f, header_area, snap, st);
    let rows = st.rows(snap);
    st.page = usize::from(table_area.height.saturating_sub(3)).max(1);
    let selected = st.selected_index(&rows);
    table::render(f, table_area, &rows, selected, st);
    detail::render(f, detail_area, rows.get(selected).copied(), st);
    status::render(f, status_area, snap, st, rows.len());
    if st.help {
        help::render(f, centered(area, 72, 24));
    }
    if st.no_color {
        // $NO_COLOR: every colour off; bold, reverse and the focus markers remain.
        for cell in f.buffer_mut().content.iter_mut() {
            cell.set_fg(Color::Reset).set_bg(Color::Reset);
        }
    }
}

/// A bordered pane. The one with the focus says so three ways: a "▶" before its title, a
/// thick border, and the border's colour, so it shows without colour too (NO_COLOR,
/// monochrome terminals, colour-blind users).
pub(crate) fn pane(title: &str, focused: bool) -> Block<'static> {
    let (title, kind) = if focused {
        (format!("▶{title}"), BorderType::Thick)
    } else {
        (title.to_string(), BorderType::Plain)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(kind)
        .title(title)
        .border_style(focused_border(focused))
}

pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(crate) fn outcome_style(word: &str) -> Style {
    match word {
        "failed" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "ok" => Style::default().fg(Color::Green),
        "open" => Style::default().fg(Color::Yellow),
        _ => Style::default().fg(Color::DarkGray),
    }
}

pub(crate) fn focused_border(on: bool) -> Style {
    if on {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    }
}

/// Wire strings may carry control characters: never send them to the terminal.
pub(crate) fn clean(s: &str) -> String {
    crate::report::text::clean(s)
}
