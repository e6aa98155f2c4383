//! The offline pipeline: a capture file through the analyzer to connection records.
//! Shared by the CLI, the tests and the benchmarks so they all measure the same path.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;

use crate::analyzer::{Analyzer, Finished};
use crate::capture::file::{self, FileError};
use crate::capture::Filter;
use crate::config::Config;
use crate::diagnosis::retry;
use crate::record::ConnectionRecord;
use crate::report::summary::FileSummary;

pub struct FileResult {
    pub records: Vec<ConnectionRecord>,
    pub summary: FileSummary,
    pub next_id: u64,
}

/// Analyze one capture file. Connection ids start at `first_id`. `progress` receives
/// the bytes read so far.
pub fn analyze_file(
    path: &Path,
    filter: &Filter,
    cfg: &Config,
    first_id: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<FileResult, FileError> {
    let mut analyzer = Analyzer::new(cfg.clone(), first_id);
    let read = file::read(
        path,
        filter,
        &mut |f| analyzer.on_frame(f.number, f.ts, f.link, f.data, f.wire_len),
        progress,
    )?;
    let next_id = analyzer.next_id();
    let (finished, mut stats) = analyzer.finish();
    stats.empty_frames = read.empty_frames;
    let shown = path.display().to_string();
    let mut records: Vec<ConnectionRecord> = finished
        .iter()
        .map(|f| {
            let mut r = ConnectionRecord::from_finished(f, cfg);
            r.file = Some(shown.clone());
            r
        })
        .collect();
    let times: Vec<_> = finished.iter().map(Finished::span).collect();
    retry::link(&mut records, &times);
    Ok(FileResult {
        records,
        summary: FileSummary {
            file: shown,
            frames: read.frames,
            frames_analyzed: stats.frames_analyzed,
            stats,
            warning: read.stopped_early,
            error: None,
        },
        next_id,
    })
}
