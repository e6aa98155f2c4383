//! The help overlay, built from the key-binding table.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keys::BINDINGS;

pub fn render(f: &mut Frame<'_>, area: Rect) {
    let mut lines: Vec<Line<'_>> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(
                    format!(" {:<10}", b.keys),
                    Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                ),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(
        " Mouse wheel scrolls; Ctrl-C quits. Failed rows are red; the detail",
    ));
    lines.push(Line::raw(" pane explains the cause with frame numbers and the fix."));
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Help — ? or Esc to close "),
        ),
        area,
    );
}
