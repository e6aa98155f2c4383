//! Findings in plain words: the verdict first, what the user most likely saw, the fix,
//! then every other finding with its frames.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::diagnosis::Severity;
use crate::live::ConnView;
use crate::tui::state;

pub fn lines(v: &ConnView) -> Vec<Line<'static>> {
    let r = &v.record;
    let mut out = Vec::new();
    let word = state::outcome_word(v);
    let verdict = match r.findings.iter().find(|f| f.severity == Severity::Error) {
        Some(f) => format!(
            "{} at {}: {}{}",
            word.to_uppercase(),
            r.phase_label(),
            f.summary,
            if f.inferred { " (inferred)" } else { "" }
        ),
        None if v.open => format!("OPEN, reached {} so far", r.phase_label()),
        None => format!("{} (reached {})", word.to_uppercase(), r.phase_label()),
    };
    out.push(Line::styled(
        super::clean(&verdict),
        super::outcome_style(word).add_modifier(Modifier::BOLD),
    ));
    if let Some(e) = &r.client_error {
        out.push(Line::raw(format!(
            "The user most likely saw error {} ({}; inferred).",
            e.code, e.meaning
        )));
    }
    if let Some(p) = r.retry_of {
        out.push(Line::raw(format!("A retry of connection #{p}.")));
    }
    for (i, f) in r.findings.iter().enumerate() {
        let (tag, color) = match f.severity {
            Severity::Error => ("error", Color::Red),
            Severity::Warning => ("warn ", Color::Yellow),
            Severity::Info => ("info ", Color::DarkGray),
        };
        let frames: Vec<String> = f.frames.iter().map(|n| format!("#{n}")).collect();
        out.push(Line::from(vec![
            Span::styled(format!("[{tag}] "), Style::default().fg(color)),
            Span::styled(f.code.to_string(), Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!(
                ": {}{}  {}",
                super::clean(&f.summary),
                if f.inferred { " (inferred)" } else { "" },
                frames.join(" ")
            )),
        ]));
        if !f.detail.is_empty() {
            out.push(Line::raw(format!("        {}", super::clean(&f.detail))));
        }
        if i == 0 && f.severity == Severity::Error && !f.remedy.is_empty() {
            out.push(Line::styled(
                format!("  fix: {}", f.remedy),
                Style::default().fg(Color::Green),
            ));
        }
    }
    out
}
