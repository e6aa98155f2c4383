//! The bottom line: the filter being typed, the last message, or the key hints. Hints that
//! do not fit are left out least useful first; `? help` and `q quit` always stay.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text;
use crate::live::Snapshot;
use crate::tui::state::{DetailView, Focus, UiState};

/// Key hints in the order shown, with the rank of each (0 is kept longest).
fn hints(st: &UiState) -> Vec<(u8, &'static str)> {
    let tab = match (st.focus, st.view) {
        (Focus::Table, _) => "Tab detail",
        (Focus::Detail, DetailView::Findings) if st.narrow => "Tab ladder",
        (Focus::Detail, _) => "Tab table",
    };
    vec![
        (0, "? help"),
        (2, "/ filter"),
        (3, "f failed"),
        (5, "s/S sort"),
        (1, tab),
        (6, "space pause"),
        (4, "w pcap"),
        (7, "e json"),
        (0, "q quit"),
    ]
}

fn key_line(shown: usize, st: &UiState, w: usize) -> String {
    let all = hints(st);
    for keep in (0..=7u8).rev() {
        let line = format!(
            " {shown} shown │ {}",
            all.iter()
                .filter(|(rank, _)| *rank <= keep)
                .map(|(_, h)| *h)
                .collect::<Vec<_>>()
                .join("  ")
        );
        if line.chars().count() <= w {
            return line;
        }
    }
    text::end(&format!(" {shown} │ ? help  q quit"), w)
}

pub fn render(f: &mut Frame<'_>, area: Rect, s: &Snapshot, st: &UiState, shown: usize) {
    let w = usize::from(area.width);
    let (line, style) = if st.editing_filter {
        (
            format!(" filter: {}█  (Enter keep, Esc clear)", st.filter),
            Style::default().fg(Color::Yellow),
        )
    } else if let Some(m) = st.message.as_ref().or(s.status.as_ref()) {
        (format!(" {}", super::clean(m)), Style::default().fg(Color::Yellow))
    } else {
        (key_line(shown, st, w), Style::default().fg(Color::DarkGray))
    };
    f.render_widget(Paragraph::new(text::middle(&line, w)).style(style), area);
}
