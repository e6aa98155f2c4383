//! Fitting text into a terminal cell range without losing what matters: long values are
//! abbreviated with "…" (never silently cut), and wrapped lines get a hanging indent so a
//! continuation is told from a new line.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `w` columns: whole if it fits, else its start and its end around "…"
/// (addresses, paths: both ends say which one it is).
pub fn middle(s: &str, w: usize) -> String {
    let n = width(s);
    if n <= w {
        return s.to_string();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    let tail = (w - 1) / 2;
    let head = w - 1 - tail;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// `s` in at most `w` columns: whole if it fits, else its start and "…".
pub fn end(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    if w > 0 {
        out.push('…');
    }
    out
}

/// Styled spans broken between words into lines of at most `w` columns; every line after
/// the first starts with `indent` spaces. A word longer than a line is split.
pub fn wrap(spans: &[Span<'static>], w: usize, indent: usize) -> Vec<Line<'static>> {
    let w = w.max(indent + 8);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    let push = |cur: &mut Vec<Span<'static>>, text: &str, style: Style| match cur.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(text),
        _ => cur.push(Span::styled(text.to_string(), style)),
    };
    for span in spans {
        let style = span.style;
        for token in tokens(&span.content) {
            let n = width(token);
            let space = token.starts_with(' ');
            let at_start = used == 0 || (!lines.is_empty() && used == indent);
            if space {
                // Blanks between words; none at the start of a continuation line.
                if (lines.is_empty() || !at_start) && used + n <= w {
                    push(&mut cur, token, style);
                    used += n;
                }
                continue;
            }
            if used + n > w && !at_start {
                // The blank before the break is not kept at the end of the line.
                if let Some(last) = cur.last_mut() {
                    let kept = last.content.trim_end().len();
                    last.content.to_mut().truncate(kept);
                }
                lines.push(Line::from(std::mem::take(&mut cur)));
                cur.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            // A word longer than a whole line: in pieces.
            let mut rest: Vec<char> = token.chars().collect();
            while used + rest.len() > w {
                let take = w - used;
                let piece: String = rest.drain(..take).collect();
                push(&mut cur, &piece, style);
                lines.push(Line::from(std::mem::take(&mut cur)));
                cur.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            let piece: String = rest.into_iter().collect();
            used += width(&piece);
            push(&mut cur, &piece, style);
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(Line::from(cur));
    }
    lines
}

/// Words and runs of blanks, in order.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_space: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let sp = c == ' ';
        if prev_space.is_some_and(|p| p != sp) {
            out.push(&s[start..i]);
            start = i;
        }
        prev_space = Some(sp);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn abbreviations_keep_both_ends_or_the_start() {
        assert_eq!(
            middle("fixtures/lab/nla-wrong-password.pcap", 20),
            "fixtures/l…word.pcap"
        );
        assert_eq!(middle("short", 20), "short");
        assert_eq!(end("negotiation_failure", 12), "negotiation…");
        assert_eq!(end("ok", 12), "ok");
    }

    #[test]
    fn wrapped_lines_are_indented_and_words_whole() {
        let l = wrap(
            &[Span::raw(
                "[error] nla_failed: the server ended CredSSP after three records",
            )],
            24,
            4,
        );
        assert_eq!(
            text(&l),
            [
                "[error] nla_failed: the",
                "    server ended CredSSP",
                "    after three records"
            ]
        );
        assert!(l.iter().all(|l| l.width() <= 24));
        let long = wrap(&[Span::raw("x".repeat(30))], 12, 2);
        assert_eq!(text(&long), ["xxxxxxxxxxxx", "  xxxxxxxxxx", "  xxxxxxxx"]);
    }
}
