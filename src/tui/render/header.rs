//! Header: source, packet rate, drops, connection counts, an active brute force or
//! password spraying, failures by cause.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::live::Snapshot;
use crate::tui::state::UiState;

pub fn render(f: &mut Frame<'_>, area: Rect, s: &Snapshot, st: &UiState) {
    let mode = if s.live {
        "LIVE"
    } else if s.ended {
        "REPLAY (ended)"
    } else {
        "REPLAY"
    };
    let drops = s.dropped_by_us + s.kernel_dropped + s.if_dropped;
    let drop_style = if drops > 0 {
        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    let mut l1 = vec![
        Span::styled(
            " rdpscope ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" {mode} {} ", super::clean(&s.source))),
        Span::raw(format!("│ {:.0} pkt/s │ {} frames │ ", s.pps, s.frames)),
        Span::styled(
            format!(
                "drops: {} rdpscope, {} kernel, {} interface",
                s.dropped_by_us, s.kernel_dropped, s.if_dropped
            ),
            drop_style,
        ),
    ];
    if st.paused.is_some() {
        l1.push(Span::styled(
            " PAUSED ",
            Style::default().fg(Color::Black).bg(Color::Yellow),
        ));
    }
    let causes: Vec<String> = s.failures_by_cause.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let mut l2 = vec![
        Span::raw(" connections: "),
        Span::styled(
            if s.open > s.open_listed {
                format!("{} open ({} most recent listed)", s.open, s.open_listed)
            } else {
                format!("{} open", s.open)
            },
            Style::default().fg(Color::Yellow),
        ),
        Span::raw("  "),
        Span::styled(format!("{} ok", s.success), Style::default().fg(Color::Green)),
        Span::raw("  "),
        Span::styled(format!("{} failed", s.failed), Style::default().fg(Color::Red)),
        Span::raw(format!("  {} incomplete", s.incomplete)),
    ];
    // An active brute force or spraying comes first, so a narrow terminal shows it whole.
    if let Some(d) = s.attacks.first() {
        let more = s.brute_force_sources.saturating_sub(1);
        l2.insert(
            0,
            Span::styled(
                format!(
                    " {} {}: {} failures{} │",
                    if d.code == "password_spray" {
                        "SPRAYING"
                    } else {
                        "BRUTE FORCE"
                    },
                    d.source,
                    d.failures,
                    if more > 0 {
                        format!(" +{more} sources")
                    } else {
                        String::new()
                    }
                ),
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
        );
    }
    l2.extend([Span::raw(if causes.is_empty() {
        String::new()
    } else {
        format!("  │ causes: {}", causes.join(", "))
    })]);
    f.render_widget(Paragraph::new(vec![Line::from(l1), Line::from(l2)]), area);
}
