//! Header: the source and, for an interface, packet rate and drops; for a replayed file,
//! where in the capture the replay is and its speed. Then an active brute force or password
//! spraying, connection counts and failures by cause. Everything is fitted to the width: shorter words first, then the source
//! abbreviated in the middle, then causes summed up as "+N more", never cut off.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text;
use crate::live::{ReplayPosition, Snapshot};
use crate::tui::state::UiState;

const BADGE: &str = " rdpscope ";

fn width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| s.content.chars().count()).sum()
}

/// What follows the source, longest wording first: packet rate and drops live, position
/// and speed for a replay.
fn details(s: &Snapshot) -> Vec<Vec<Span<'static>>> {
    let red = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    if s.live {
        let drops = s.dropped_by_us + s.kernel_dropped + s.if_dropped;
        let style = if drops > 0 { red } else { Style::default() };
        let long = format!(
            "drops: {} rdpscope, {} kernel, {} interface",
            s.dropped_by_us, s.kernel_dropped, s.if_dropped
        );
        let short = format!(
            "drops {}/{}/{} (ours/kernel/if)",
            s.dropped_by_us, s.kernel_dropped, s.if_dropped
        );
        let shortest = format!("drops {drops}");
        [
            (format!("│ {:.0} pkt/s │ {} frames │ ", s.pps, s.frames), long),
            (format!("│ {:.0} pkt/s │ {} frames │ ", s.pps, s.frames), short),
            (
                format!("│ {:.0} pkt/s │ {} frames │ ", s.pps, s.frames),
                shortest.clone(),
            ),
            (format!("│ {:.0} pkt/s │ ", s.pps), shortest),
        ]
        .into_iter()
        .map(|(a, b)| {
            let mut v = vec![Span::raw(a), Span::styled(b, style)];
            // --write could not keep up (disk full): the pcap is missing packets.
            if s.write_errors > 0 {
                v.push(Span::styled(format!(" │ {} write errors", s.write_errors), red));
            }
            v
        })
        .collect()
    } else {
        let pos = s.replay.map(position).unwrap_or_default();
        let speed = match s.replay.map(|r| r.speed) {
            Some(Some(x)) => format!("speed x{}", trim(x)),
            Some(None) => "as fast as possible".into(),
            None => String::new(),
        };
        let short_speed = match s.replay.map(|r| r.speed) {
            Some(Some(x)) => format!("x{}", trim(x)),
            Some(None) => "fast".into(),
            None => String::new(),
        };
        // A timed replay can fall behind the view: say so only then.
        let drops = if s.dropped_by_us > 0 {
            vec![Span::styled(format!(" │ {} dropped", s.dropped_by_us), red)]
        } else {
            Vec::new()
        };
        let join = |parts: &[&str]| {
            let parts: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
            format!("│ {}", parts.join(" │ "))
        };
        [
            join(&[&pos, &speed, &format!("{} frames", s.frames)]),
            join(&[&pos, &short_speed, &format!("{} frames", s.frames)]),
            join(&[&pos, &short_speed]),
        ]
        .into_iter()
        .map(|t| {
            let mut v = vec![Span::raw(t)];
            v.extend(drops.clone());
            v
        })
        .collect()
    }
}

/// `1` for 1.0, `0.5`, `2.5`: a speed as people write it.
fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The capture time reached and how far that is into the capture.
fn position(r: ReplayPosition) -> String {
    match (r.first, r.at) {
        (Some(first), Some(at)) => format!("at {} (+{:.1} s)", at.clock(), at.ms_since(first) / 1000.0),
        _ => "waiting for the first packet".into(),
    }
}

fn line1(s: &Snapshot, st: &UiState, w: usize) -> Line<'static> {
    let mode = if s.live {
        "LIVE"
    } else if s.ended {
        "REPLAY ended"
    } else {
        "REPLAY"
    };
    let badge = Span::styled(
        BADGE,
        Style::default()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    );
    let paused = st
        .paused
        .is_some()
        .then(|| Span::styled(" PAUSED ", Style::default().fg(Color::Black).bg(Color::Yellow)));
    let source = super::clean(&s.source);
    let variants = details(s);
    let fixed = BADGE.len() + mode.len() + 3 + paused.as_ref().map_or(0, |p| p.content.len());
    // The longest wording that leaves the source at least 12 columns (or all of it).
    let want = source.chars().count().min(12);
    let rest = variants
        .iter()
        .find(|v| fixed + want + width(v) <= w)
        .or(variants.last())
        .cloned()
        .unwrap_or_default();
    let room = w.saturating_sub(fixed + width(&rest)).max(4);
    let mut spans = vec![badge, Span::raw(format!(" {mode} {} ", text::middle(&source, room)))];
    spans.extend(rest);
    spans.extend(paused);
    Line::from(spans)
}

fn line2(s: &Snapshot, w: usize) -> Line<'static> {
    let open = if s.open > s.open_listed {
        format!("{} open ({} most recent listed)", s.open, s.open_listed)
    } else {
        format!("{} open", s.open)
    };
    let mut spans = vec![
        Span::raw(" connections: "),
        Span::styled(open, Style::default().fg(Color::Yellow)),
        Span::raw("  "),
        Span::styled(format!("{} ok", s.success), Style::default().fg(Color::Green)),
        Span::raw("  "),
        Span::styled(format!("{} failed", s.failed), Style::default().fg(Color::Red)),
        Span::raw(format!("  {} incomplete", s.incomplete)),
    ];
    // An active brute force or spraying comes first, so a narrow terminal shows it whole.
    let mut counts_at = 0;
    if let Some(d) = s.attacks.first() {
        counts_at = 1;
        let more = s.brute_force_sources.saturating_sub(1);
        let what = if d.code == "password_spray" {
            "SPRAYING"
        } else {
            "BRUTE FORCE"
        };
        let more = if more > 0 {
            format!(" +{more} sources")
        } else {
            String::new()
        };
        spans.insert(
            0,
            Span::styled(
                format!(" {what} {}: {} failures{more} │", d.source, d.failures),
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
        );
    }
    if s.failures_by_cause.is_empty() {
        return Line::from(spans);
    }
    // Most frequent first; as many as fit, the rest counted.
    let mut causes: Vec<(&String, &u64)> = s.failures_by_cause.iter().collect();
    causes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut label = " │ causes: ";
    if width(&spans) + label.len() + 20 > w {
        // Room for the causes: the counts without their label.
        spans[counts_at] = Span::raw(" ");
        label = " │ ";
    }
    let mut shown: Vec<String> = Vec::new();
    for (i, (c, n)) in causes.iter().enumerate() {
        let item = format!("{c} {n}");
        let left = causes.len() - i - 1;
        let more = if left > 0 {
            format!(", +{left} more")
        } else {
            String::new()
        };
        let candidate = if shown.is_empty() {
            item.clone()
        } else {
            format!("{}, {item}", shown.join(", "))
        };
        if width(&spans) + label.len() + candidate.chars().count() + more.len() > w {
            break;
        }
        shown.push(item);
    }
    let hidden = causes.len() - shown.len();
    let mut t = shown.join(", ");
    if hidden > 0 {
        t.push_str(&if shown.is_empty() {
            format!("{hidden} causes (f: failed only)")
        } else {
            format!(", +{hidden} more")
        });
    }
    // Not even the count of causes fits (a brute-force line takes the room): leave them out.
    if width(&spans) + label.len() + t.chars().count() <= w {
        spans.push(Span::raw(format!("{label}{t}")));
    }
    Line::from(spans)
}

pub fn render(f: &mut Frame<'_>, area: Rect, s: &Snapshot, st: &UiState) {
    let w = usize::from(area.width);
    f.render_widget(Paragraph::new(vec![line1(s, st, w), line2(s, w)]), area);
}
