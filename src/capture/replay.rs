//! Replay: a capture file fed through the live pipeline with its original timing
//! (scaled by `speed`), or as fast as possible. Frame numbers are the file's, exactly as
//! `analyze` numbers them, so replayed and analyzed verdicts are comparable.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::file::{self, FileError};
use super::{send_batch, CaptureCounters, CaptureMsg, Filter, Pool};
use crate::ts::Ts;

/// The longest wait between two frames: a capture that was idle for hours replays its gap in
/// this much time.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// Read `path` and send its frames; `speed` None = as fast as the analysis takes them
/// (blocking, nothing dropped), Some(x) = original timing divided by x.
pub fn run(
    path: &Path,
    filter: &Filter,
    speed: Option<f64>,
    tx: Sender<CaptureMsg>,
    pool: Pool,
    counters: Arc<CaptureCounters>,
) {
    let mut batch = pool.take();
    let start = Instant::now();
    let mut first_ts: Option<Ts> = None;
    // Time taken out of the schedule: a long gap in the capture is waited once, shortened to
    // MAX_WAIT, and everything after it moves up by what was cut.
    let mut cut = Duration::ZERO;
    let mut stopped = false;
    let result: Result<file::ReadSummary, FileError> = file::read(
        path,
        filter,
        &mut |f| {
            if stopped || counters.stop_requested() {
                stopped = true;
                return;
            }
            if let Some(speed) = speed.filter(|s| *s > 0.0) {
                let t0 = *first_ts.get_or_insert(f.ts);
                // Out of range (a huge gap at a tiny speed): as late as a Duration goes.
                let due = Duration::try_from_secs_f64((f.ts.ms_since(t0) / 1000.0 / speed).max(0.0))
                    .unwrap_or(Duration::MAX)
                    .saturating_sub(cut);
                let now = start.elapsed();
                if due > now {
                    // Hand over what we have before waiting, so the view shows it now.
                    send_batch(&tx, &mut batch, &pool, &counters);
                    let wait = due - now;
                    if wait > MAX_WAIT {
                        cut = cut.saturating_add(wait - MAX_WAIT);
                    }
                    std::thread::sleep(wait.min(MAX_WAIT));
                }
            }
            counters.frames.fetch_add(1, Ordering::Relaxed);
            counters.bytes.fetch_add(u64::from(f.wire_len), Ordering::Relaxed);
            batch.push(f.number, f.ts, f.link, f.data, f.wire_len);
            if batch.is_full() {
                if speed.is_none() {
                    // Fast replay must not lose frames: wait for the analysis instead.
                    let _ = tx.send(CaptureMsg::Frames(std::mem::replace(&mut batch, pool.take())));
                } else {
                    send_batch(&tx, &mut batch, &pool, &counters);
                }
            }
        },
        &mut |_| {},
    );
    if !batch.is_empty() {
        let _ = tx.send(CaptureMsg::Frames(batch));
    }
    let end = match result {
        Ok(s) => s
            .stopped_early
            .map(|w| format!("{}: reading stopped early: {w}", path.display())),
        Err(e) => Some(e.to_string()),
    };
    let _ = tx.send(CaptureMsg::End(end));
}
