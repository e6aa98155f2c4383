//! Findings in plain words: the verdict first, what the user most likely saw, the fix,
//! then every other finding with its frames.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::diagnosis::Severity;
use crate::live::ConnView;
use crate::tui::state;

/// The lines for an inner width of `w` columns: long ones wrap with a hanging indent under
/// their text (the verdict by 2, a finding by 8, the fix by 7).
pub fn lines(v: &ConnView, w: u16) -> Vec<Line<'static>> {
    let w = usize::from(w);
    logical(v)
        .into_iter()
        .flat_map(|(spans, indent)| super::text::wrap(&spans, w, indent))
        .collect()
}

/// Each line before wrapping, with its hanging indent.
fn logical(v: &ConnView) -> Vec<(Vec<Span<'static>>, usize)> {
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
    out.push((
        vec![Span::styled(
            super::clean(&verdict),
            super::outcome_style(word).add_modifier(Modifier::BOLD),
        )],
        2,
    ));
    if let Some(e) = &r.client_error {
        out.push((
            vec![Span::raw(format!(
                "The user most likely saw error {} ({}; inferred).",
                e.code, e.meaning
            ))],
            2,
        ));
    }
    if let Some(p) = r.retry_of {
        out.push((vec![Span::raw(format!("A retry of connection #{p}."))], 2));
    }
    for (i, f) in r.findings.iter().enumerate() {
        let (tag, color) = match f.severity {
            Severity::Error => ("error", Color::Red),
            Severity::Warning => ("warn ", Color::Yellow),
            Severity::Info => ("info ", Color::DarkGray),
        };
        let frames: Vec<String> = f.frames.iter().map(|n| format!("#{n}")).collect();
        out.push((
            vec![
                Span::styled(format!("[{tag}] "), Style::default().fg(color)),
                Span::styled(f.code.to_string(), Style::default().add_modifier(Modifier::BOLD)),
                Span::raw(format!(
                    ": {}{}  {}",
                    super::clean(&f.summary),
                    if f.inferred { " (inferred)" } else { "" },
                    frames.join(" ")
                )),
            ],
            8,
        ));
        if !f.detail.is_empty() {
            out.push((vec![Span::raw(format!("        {}", super::clean(&f.detail)))], 8));
        }
        if i == 0 && f.severity == Severity::Error && !f.remedy.is_empty() {
            out.push((
                vec![Span::styled(
                    format!("  fix: {}", f.remedy),
                    Style::default().fg(Color::Green),
                )],
                7,
            ));
        }
    }
    out
}
