//! The offline pipeline: a capture file through the analyzer to connection records.
//! Shared by the CLI, the tests and the benchmarks so they all measure the same path.
//!
//! Records are produced while the file is read, in id order, as soon as every older
//! connection has ended ([`Analyzer::take_ready`]), and retry links and stories are worked
//! out as they come: memory holds the open connections and the records waiting for an older
//! one to end, not the whole file.

use std::path::Path;

use crate::analyzer::{Analyzer, Finished};
use crate::capture::file::{self, FileError};
use crate::capture::Filter;
use crate::config::Config;
use crate::diagnosis::retry;
use crate::record::ConnectionRecord;
use crate::report::summary::FileSummary;

pub struct FileResult {
    /// Every record, in id order ([`analyze_file`]); empty from [`analyze_file_streaming`],
    /// which hands them out one by one.
    pub records: Vec<ConnectionRecord>,
    pub summary: FileSummary,
    pub next_id: u64,
    /// Chains of retried attempts, one line each (see [`retry::stories`]).
    pub stories: Vec<String>,
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
    let mut records = Vec::new();
    let mut res = analyze_file_streaming(path, filter, cfg, first_id, progress, &mut |r| records.push(r))?;
    res.records = records;
    Ok(res)
}

/// Turns finished connections, in id order, into linked records.
struct Emitter<'a> {
    cfg: &'a Config,
    file: String,
    linker: retry::Linker,
    stories: retry::Stories,
}

impl Emitter<'_> {
    fn emit(&mut self, finished: Vec<Finished>, out: &mut dyn FnMut(ConnectionRecord)) {
        for f in finished {
            let mut r = ConnectionRecord::from_finished(&f, self.cfg);
            r.file = Some(self.file.clone());
            let (start, end) = f.span();
            drop(f);
            self.linker.link(&mut r, start, end);
            self.stories.add(&r, Some(&self.linker));
            out(r);
        }
    }
}

/// How many frames pass between two looks for records ready to go out.
const READY_EVERY: u64 = 1024;

/// Analyze one capture file, handing each record to `on_record` in id order as soon as it
/// is final. The returned result has no records.
pub fn analyze_file_streaming(
    path: &Path,
    filter: &Filter,
    cfg: &Config,
    first_id: u64,
    progress: &mut dyn FnMut(u64),
    on_record: &mut dyn FnMut(ConnectionRecord),
) -> Result<FileResult, FileError> {
    let mut analyzer = Analyzer::new(cfg.clone(), first_id);
    let shown = path.display().to_string();
    let mut em = Emitter {
        cfg,
        file: shown.clone(),
        linker: retry::Linker::default(),
        stories: retry::Stories::default(),
    };
    let mut since = 0u64;
    let read = file::read(
        path,
        filter,
        &mut |f| {
            analyzer.on_frame(f.number, f.ts, f.link, f.data, f.wire_len);
            since += 1;
            if since >= READY_EVERY {
                since = 0;
                if analyzer.waiting() > 0 {
                    em.emit(analyzer.take_ready(), on_record);
                }
            }
        },
        progress,
    )?;
    let next_id = analyzer.next_id();
    let (finished, stats) = analyzer.finish();
    em.emit(finished, on_record);
    Ok(FileResult {
        records: Vec::new(),
        summary: FileSummary {
            file: shown,
            frames: read.frames,
            frames_analyzed: stats.frames_analyzed,
            stats,
            warning: read.stopped_early,
            error: None,
        },
        next_id,
        stories: em.stories.finish(),
    })
}
