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
        let label = super::clean(&e.event.describe());
        let label: String = label.chars().take(arrow_w.saturating_sub(4)).collect();
        let pad = arrow_w.saturating_sub(label.chars().count() + 3);
        let (arrow, color) = match e.from {
            Side::Client => (format!("─{label} {}▶", "─".repeat(pad)), Color::White),
            Side::Server => (format!("◀{} {label}─", "─".repeat(pad)), Color::LightBlue),
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
        prev = e.t_ms;
    }
    if r.timeline_dropped > 0 {
        out.push(Line::raw(format!("  … {} more events not kept", r.timeline_dropped)));
    }
    out
}
