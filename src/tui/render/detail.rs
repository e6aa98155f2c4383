//! The detail pane of the selected connection. Wide terminals get the ladder beside the
//! findings, certificate and RTT sparkline; narrow ones a view at a time, the findings
//! (verdict, fix, certificate) or the handshake ladder, the title saying which and that Tab
//! goes to the other. Lines wrap with a hanging indent, and nothing is cut.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{cert, findings, ladder, rtt, text};
use crate::live::ConnView;
use crate::tui::state::{DetailView, Focus, UiState};

/// From this width the ladder is drawn beside the findings.
pub const WIDE: u16 = 140;

fn title(v: &ConnView) -> String {
    let r = &v.record;
    format!(" #{} {} → {} ", r.id, r.client, r.server)
}

/// Certificate, security and RTT lines, wrapped under their values (10 columns of label).
fn security_lines(v: &ConnView, w: usize) -> Vec<Line<'static>> {
    let mut lines = cert::lines(v);
    if !v.rtt_ms.is_empty() {
        let mut s = v.rtt_ms.clone();
        s.sort_by(f64::total_cmp);
        lines.push(Line::raw(format!(
            "RTT       {} samples, median {:.1} ms, max {:.1} ms",
            s.len(),
            s.get(s.len() / 2).copied().unwrap_or(0.0),
            s.last().copied().unwrap_or(0.0)
        )));
    }
    lines.into_iter().flat_map(|l| text::wrap(&l.spans, w, 10)).collect()
}

pub fn render(f: &mut Frame<'_>, area: Rect, v: Option<&ConnView>, st: &UiState) {
    let focused = st.focus == Focus::Detail;
    let Some(v) = v else {
        let p = Paragraph::new("No connection yet. RDP connections appear here as they happen.")
            .block(super::pane(" Detail ", focused));
        f.render_widget(p, area);
        return;
    };
    if area.width >= WIDE {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
        let lad = Paragraph::new(ladder::lines(v, left.width.saturating_sub(2)))
            .block(super::pane(&format!("{}— handshake ", title(v)), focused))
            .scroll((st.detail_scroll, 0));
        f.render_widget(lad, left);
        let inner = usize::from(right.width.saturating_sub(2));
        // The security box grows with what was read inside TLS (decrypted connections).
        let cert_lines = security_lines(v, inner);
        let ce_h = u16::try_from(cert_lines.len() + 2).unwrap_or(9).clamp(9, 16);
        let [fi, ce, sp] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(ce_h), Constraint::Length(5)]).areas(right);
        f.render_widget(
            Paragraph::new(findings::lines(v, right.width.saturating_sub(2)))
                .block(Block::default().borders(Borders::ALL).title(" Findings ")),
            fi,
        );
        f.render_widget(
            Paragraph::new(cert_lines).block(Block::default().borders(Borders::ALL).title(" Certificate / security ")),
            ce,
        );
        rtt::render(f, sp, v);
        return;
    }
    let w = area.width.saturating_sub(2);
    let (lines, tabs) = match st.view {
        DetailView::Findings => {
            let mut lines = findings::lines(v, w);
            lines.push(Line::raw(""));
            lines.push(Line::styled("Certificate / security", Style::default().fg(Color::Cyan)));
            lines.extend(security_lines(v, usize::from(w)));
            (lines, "[Findings] Ladder ")
        }
        DetailView::Ladder => (ladder::lines(v, w), "Findings [Ladder] "),
    };
    // The connection, abbreviated if need be, then which view this is.
    let room = usize::from(w).saturating_sub(tabs.len() + 4);
    let head = text::middle(&title(v), room);
    let p = Paragraph::new(lines)
        .scroll((st.detail_scroll, 0))
        .block(super::pane(&format!("{head}· {tabs}"), focused));
    f.render_widget(p, area);
}
