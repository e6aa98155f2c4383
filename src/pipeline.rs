//! The offline pipeline: a capture file through the analyzer to connection records.
//! Shared by the CLI, the tests and the benchmarks so they all measure the same path.
//!
//! Records are produced while the file is read, as soon as they are final
//! ([`Analyzer::take_ready`]: in id order unless an older connection stays open more than a
//! minute of capture time longer; a retry always after the attempt it repeats), and retry
//! links and stories are worked out as they come: memory holds the open connections and at
//! most `analyzer::ready::MAX_WAITING` finished ones, not the whole file.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::cell::Cell;
use std::path::Path;
use std::sync::mpsc;

use crate::analyzer::Analyzer;
use crate::capture::file::{self, FileError};
use crate::capture::keys::{capture_keylog, read_keylogs, read_server_keys};
use crate::capture::{Filter, FrameBatch, Pool};
use crate::config::Config;
use crate::decode::LinkType;
use crate::decrypt::Keys;
use crate::emit::summary::{FileSummary, Summary};
use crate::emit::Emitter;
use crate::record::ConnectionRecord;
use crate::ts::Ts;

pub struct FileResult {
    /// Every record, in id order.
    pub records: Vec<ConnectionRecord>,
    /// The run's summary: counts, retry stories and this file's figures.
    pub summary: Summary,
    pub next_id: u64,
}

/// Analyze one capture file on its own (no redaction). Connection ids start at `first_id`.
/// `progress` receives the bytes read so far.
pub fn analyze_file(
    path: &Path,
    filter: &Filter,
    cfg: &Config,
    first_id: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<FileResult, FileError> {
    let mut records = Vec::new();
    let mut em = Emitter::new(cfg, None);
    let next_id = analyze_file_streaming(path, filter, cfg, &mut em, first_id, progress, &mut |r| records.push(r))?;
    records.sort_by_key(|r| r.id);
    Ok(FileResult {
        records,
        summary: em.finish(),
        next_id,
    })
}

/// A batch goes when it holds this many frames or bytes. Each batch may wake the other
/// thread, so small frames (a SYN flood) come thousands to a batch; two batches wait at
/// most, so the batches in flight stay under two megabytes (more waiting batches let the
/// reader run ahead through a flood, 2% faster, for 2 MB more at the peak: not taken).
const BATCH_FRAMES: usize = 8192;
const BATCH_BYTES: usize = 256 * 1024;

/// What the analyzer thread does with a frame: number, time, link type, bytes, length.
type OnFrame<'a> = dyn FnMut(u64, Ts, LinkType, &[u8], u32) + 'a;

/// Read on a second thread (libpcap, BPF) while this one analyzes, so that reading and
/// analysis overlap. Frames reach the analyzer in file order, so results are the same as
/// with one thread. Only frames that passed the filter are copied, into reused batches.
fn read_in_thread(
    path: &Path,
    filter: &Filter,
    progress: &mut dyn FnMut(u64),
    on_frame: &mut OnFrame<'_>,
) -> Result<file::ReadSummary, FileError> {
    // Each batch goes with the bytes of the file read so far; read batches go back to the
    // reader through the pool (two waiting, one being filled, one being read).
    let (full_tx, full_rx) = mpsc::sync_channel::<(FrameBatch, u64)>(2);
    let pool = Pool::new(4);
    let reader_pool = pool.clone();
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let bytes = Cell::new(0u64);
            let mut cur = reader_pool.take();
            let send = |cur: &mut FrameBatch| {
                let full = std::mem::replace(cur, reader_pool.take());
                full_tx.send((full, bytes.get())).is_ok()
            };
            let mut alive = true;
            let res = file::read(
                path,
                filter,
                &mut |f| {
                    if !alive {
                        return;
                    }
                    cur.push(f.number, f.ts, f.link, f.data, f.wire_len);
                    if cur.holds(BATCH_FRAMES, BATCH_BYTES) {
                        alive = send(&mut cur);
                    }
                },
                &mut |b| bytes.set(b),
            );
            if alive {
                send(&mut cur);
            }
            res
        });
        for (batch, read) in full_rx.iter() {
            for f in batch.iter() {
                on_frame(f.number, f.ts, f.link, f.data, f.wire_len);
            }
            progress(read);
            pool.give(batch);
        }
        reader.join().unwrap_or_else(|_| {
            Err(FileError::Open {
                path: path.display().to_string(),
                reason: "cannot read: the reading thread failed".into(),
            })
        })
    })
}

/// How many frames pass between two looks for records ready to go out.
const READY_EVERY: u64 = 1024;

/// Analyze one capture file, handing each record to `on_record` as soon as it is final (the
/// order [`Analyzer::take_ready`] gives); `em` builds, links and counts the records (one emitter serves every file of
/// a run) and gets the file's summary. Returns the next free connection id.
pub fn analyze_file_streaming(
    path: &Path,
    filter: &Filter,
    cfg: &Config,
    em: &mut Emitter,
    first_id: u64,
    progress: &mut dyn FnMut(u64),
    on_record: &mut dyn FnMut(ConnectionRecord),
) -> Result<u64, FileError> {
    let mut analyzer = Analyzer::new(cfg.clone(), first_id);
    *analyzer.keys_mut() = Keys {
        capture: capture_keylog(path),
        files: read_keylogs(&cfg.keylogs).unwrap_or_default(),
        server: read_server_keys(&cfg.server_keys).unwrap_or_default(),
    };
    let shown = path.display().to_string();
    em.set_file(Some(shown.clone()));
    let mut since = 0u64;
    let mut on_frame = |number: u64, ts: Ts, link: LinkType, data: &[u8], wire_len: u32| {
        analyzer.on_frame(number, ts, link, data, wire_len);
        since += 1;
        if since >= READY_EVERY {
            since = 0;
            if analyzer.waiting() > 0 {
                for f in analyzer.take_ready(crate::analyzer::ready::FILE_REORDER_SECS) {
                    on_record(em.finished(f));
                }
            }
        }
    };
    let read = if cfg.threads >= 2 {
        read_in_thread(path, filter, progress, &mut on_frame)?
    } else {
        file::read(
            path,
            filter,
            &mut |f| on_frame(f.number, f.ts, f.link, f.data, f.wire_len),
            progress,
        )?
    };
    let next_id = analyzer.next_id();
    let (finished, mut stats) = analyzer.finish();
    stats.empty_frames = read.empty_frames;
    stats.metadata_records = read.metadata_records;
    stats.unsupported_link_frames = read.unsupported_frames;
    stats.component_copies = read.copies;
    stats.capture_interfaces = read.interfaces as u64;
    stats.pktmon_drops = read.drops;
    stats.pktmon_drop_frames = read.drop_frames;
    for f in finished {
        on_record(em.finished(f));
    }
    em.add_file(FileSummary {
        file: shown,
        format: read.format,
        frames: read.frames,
        frames_analyzed: stats.frames_analyzed,
        stats,
        warning: read.stopped_early,
        error: None,
    });
    Ok(next_id)
}
