//! The detail pane of the selected connection. Wide terminals get the ladder beside the
//! findings, certificate and RTT sparkline; narrow ones one scrollable column.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::{cert, findings, ladder, rtt};
use crate::live::ConnView;
use crate::tui::state::{Focus, UiState};

fn title(v: &ConnView) -> String {
    let r = &v.record;
    format!(
        " #{} {}:{} → {}:{} ",
        r.id, r.client.ip, r.client.port, r.server.ip, r.server.port
    )
}

pub fn render(f: &mut Frame<'_>, area: Rect, v: Option<&ConnView>, st: &UiState) {
    let border = super::focused_border(st.focus == Focus::Detail);
    let Some(v) = v else {
        let p = Paragraph::new("No connection yet. RDP connections appear here as they happen.").block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Detail ")
                .border_style(border),
        );
        f.render_widget(p, area);
        return;
    };
    if area.width >= 140 {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
        let lad = Paragraph::new(ladder::lines(v, left.width.saturating_sub(2)))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!("{}— handshake ", title(v)))
                    .border_style(border),
            )
            .scroll((st.detail_scroll, 0));
        f.render_widget(lad, left);
        // The security box grows with what was read inside TLS (decrypted connections).
        let cert_lines = cert::lines(v);
        let ce_h = u16::try_from(cert_lines.len() + 2).unwrap_or(9).clamp(9, 16);
        let [fi, ce, sp] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(ce_h), Constraint::Length(5)]).areas(right);
        f.render_widget(
            Paragraph::new(findings::lines(v))
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" Findings ")),
            fi,
        );
        f.render_widget(
            Paragraph::new(cert_lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" Certificate / security ")),
            ce,
        );
        rtt::render(f, sp, v);
        return;
    }
    let mut lines = findings::lines(v);
    lines.push(Line::raw(""));
    lines.extend(ladder::lines(v, area.width.saturating_sub(2)));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Certificate / security", Style::default().fg(Color::Cyan)));
    lines.extend(cert::lines(v));
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
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((st.detail_scroll, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title(v))
                .border_style(border),
        );
    f.render_widget(p, area);
}
