//! The bottom line: the filter being typed, the last message, or the key hints.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::live::Snapshot;
use crate::tui::state::UiState;

pub fn render(f: &mut Frame<'_>, area: Rect, s: &Snapshot, st: &UiState, shown: usize) {
    let (text, style) = if st.editing_filter {
        (
            format!(" filter: {}█  (Enter keep, Esc clear)", st.filter),
            Style::default().fg(Color::Yellow),
        )
    } else if let Some(m) = st.message.as_ref().or(s.status.as_ref()) {
        (format!(" {}", super::clean(m)), Style::default().fg(Color::Yellow))
    } else {
        (
            format!(" {shown} shown │ ? help  / filter  f failed  s/S sort  Enter detail  space pause  w pcap  e json  q quit"),
            Style::default().fg(Color::DarkGray),
        )
    };
    f.render_widget(Paragraph::new(text).style(style), area);
}
