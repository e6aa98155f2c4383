//! The help overlay, built from the key-binding table.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keys::BINDINGS;

pub fn render(f: &mut Frame<'_>, area: Rect) {
    // Long descriptions go on under themselves, not off the edge.
    let w = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line<'static>> = BINDINGS
        .iter()
        .flat_map(|b| {
            super::text::wrap(
                &[
                    Span::styled(
                        format!(" {:<10}", b.keys),
                        Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(b.help),
                ],
                w,
                11,
            )
        })
        .collect();
    lines.push(Line::raw(""));
    lines.extend(super::text::wrap(
        &[Span::raw(
            " Mouse wheel scrolls; Ctrl-C quits. Failed rows are red, and the pane with the focus has a ▶ and a thick border. The detail pane explains the cause with frame numbers and the fix.",
        )],
        w,
        1,
    ));
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
