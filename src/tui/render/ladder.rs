//! The handshake as a ladder diagram: client on the left, server on the right, one arrow
//! per event with its frame, time since the first packet and delay since the previous step.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

use crate::flow::Side;
use crate::live::ConnView;

/// Lines of the ladder for an inner width of `w` columns.
pub fn lines(v: &ConnView, w: u16) -> Vec<Line<'static>> {
    let r = &v.record;
    // The prefix (frame, t, Δ) takes 28 columns; the arrow gets the rest.
    let arrow_w = usize::from(w).saturating_sub(28).max(20);
    let mut out = vec![Line::styled(
        format!(
            "{:>6} {:>10} {:>8}  {:<half$}{:>half2$}",
            "frame",
            "t ms",
            "Δ ms",
            "CLIENT",
            "SERVER",
            half = arrow_w / 2,
            half2 = arrow_w - arrow_w / 2
        ),
        Style::default().fg(Color::Cyan),
    )];
    let mut prev = 0.0;
    for e in &r.timeline {
        // A label longer than the arrow goes on under it, broken between words: never cut.
        let label = super::clean(&e.event.describe());
        let pieces: Vec<String> = super::text::wrap(&[Span::raw(label)], arrow_w.saturating_sub(4), 0)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let first = pieces.first().cloned().unwrap_or_default();
        let pad = arrow_w.saturating_sub(first.chars().count() + 3);
        let (arrow, color) = match e.from {
            Side::Client => (format!("─{first} {}▶", "─".repeat(pad)), Color::White),
            Side::Server => (format!("◀{} {first}─", "─".repeat(pad)), Color::LightBlue),
        };
        let color = if e.event.is_trouble() { Color::LightRed } else { color };
        out.push(Line::from(vec![
            Span::raw(format!(
                "{:>6} {:>10.3} {:>8.3}  ",
                format!("#{}", e.frame),
                e.t_ms,
                e.t_ms - prev
            )),
            Span::styled(arrow, Style::default().fg(color)),
        ]));
        for more in pieces.iter().skip(1) {
            // Under the label: right-aligned like it for the server's arrows.
            let text = match e.from {
                Side::Client => format!("{:28} {more}", ""),
                Side::Server => format!("{:28}{more:>w$}", "", w = arrow_w.saturating_sub(1)),
            };
            out.push(Line::styled(text, Style::default().fg(color)));
        }
        prev = e.t_ms;
    }
    if r.timeline_dropped > 0 {
        out.push(Line::raw(format!("  … {} more events not kept", r.timeline_dropped)));
    }
    out
}
