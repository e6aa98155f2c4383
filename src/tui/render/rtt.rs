//! RTT samples of the selected connection as a sparkline.

use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Sparkline};
use ratatui::Frame;

use crate::live::ConnView;

pub fn render(f: &mut Frame<'_>, area: Rect, v: &ConnView) {
    let data: Vec<u64> = v
        .rtt_ms
        .iter()
        .map(|ms| (ms * 1000.0).round().max(0.0) as u64)
        .collect();
    let mut sorted = v.rtt_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let title = match (sorted.first(), sorted.get(sorted.len() / 2), sorted.last()) {
        (Some(min), Some(med), Some(max)) => {
            format!(
                " RTT {} samples: min {min:.1} / median {med:.1} / max {max:.1} ms ",
                sorted.len()
            )
        }
        _ => " RTT: no samples ".to_string(),
    };
    let skip = data.len().saturating_sub(usize::from(area.width.saturating_sub(2)));
    let shown: Vec<u64> = data.into_iter().skip(skip).collect();
    f.render_widget(
        Sparkline::default()
            .block(Block::default().borders(Borders::ALL).title(title))
            .data(&shown),
        area,
    );
}
