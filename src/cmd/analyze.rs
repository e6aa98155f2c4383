//! `analyze`: capture files to reports, with a progress bar on a terminal.

use std::io::{self, Write};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::cli::{self, AnalyzeArgs, Format};
use rdpscope::capture::extract::{self, Wanted};
use rdpscope::capture::keys;
use rdpscope::decrypt::Keys;
use rdpscope::diagnosis::Outcome;
use rdpscope::emit::groups::{GroupBy, Groups};
use rdpscope::emit::summary::FileSummary;
use rdpscope::emit::Emitter;
use rdpscope::pipeline;
use rdpscope::record::ConnectionRecord;
use rdpscope::report::{ecs, json, ocsf, prometheus, text, text_rollups};

/// Where the evidence of one capture went, in one line: the directory and the names (the
/// first few of many).
fn written_line(input: &std::path::Path, dir: &std::path::Path, files: &[std::path::PathBuf]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = files
        .iter()
        .take(if files.len() > SHOWN { SHOWN - 2 } else { SHOWN })
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if files.len() > names.len() {
        names.push(format!("and {} more", files.len() - names.len()));
    }
    let n = files.len();
    format!(
        "{}: {n} evidence file{} written to {}: {}",
        input.display(),
        if n == 1 { "" } else { "s" },
        dir.display(),
        names.join(", ")
    )
}

/// A file's progress bar on stderr (hidden when stderr is not a terminal): against its size
/// when that says how far reading is; standard input and compressed files show bytes read.
fn progress_bar(path: &std::path::Path) -> ProgressBar {
    let len = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file() && !rdpscope::capture::input::is_compressed(path))
        .map(|m| m.len());
    let template = match len {
        Some(_) => "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        None => "{msg} {spinner} {bytes} read {bytes_per_sec}",
    };
    let bar = ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar.set_message(path.display().to_string());
    bar
}

/// Stdout under a progress bar: report lines are gathered and written whole lines at a time
/// with the bar taken off the screen meanwhile (it is drawn again below them), so no bar is
/// left in the scrollback and none is drawn in the middle of a line.
struct UnderBar<W: Write> {
    bar: ProgressBar,
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> UnderBar<W> {
    const SIZE: usize = 64 * 1024;

    fn new(inner: W) -> Self {
        UnderBar {
            bar: ProgressBar::hidden(),
            inner,
            buf: Vec::with_capacity(Self::SIZE),
        }
    }

    /// Write the first `n` bytes held, under the bar.
    fn put(&mut self, n: usize) -> io::Result<()> {
        let (inner, buf) = (&mut self.inner, &self.buf);
        let r = self.bar.suspend(|| {
            inner
                .write_all(buf.get(..n).unwrap_or(buf))
                .and_then(|()| inner.flush())
        });
        self.buf.drain(..n.min(self.buf.len()));
        r
    }
}

impl<W: Write> Write for UnderBar<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::SIZE {
            if let Some(nl) = self.buf.iter().rposition(|&b| b == b'\n') {
                self.put(nl + 1)?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.put(self.buf.len())
    }
}

/// What evidence file names start with for a capture: its name without the capture and
/// compression extensions (`stdin` for `-`).
fn evidence_stem(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        return "stdin".into();
    }
    let mut stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".gz", ".zst", ".zstd", ".pcapng", ".pcap", ".cap"] {
        if let Some(s) = stem.strip_suffix(ext).filter(|s| !s.is_empty()) {
            stem = s.to_string();
        }
    }
    stem
}

/// The evidence file for a failed connection: `STEM-START-ID-CAUSE.pcap` in `dir` (the
/// capture's name and the connection's start time from the packets, so runs over other
/// captures into the same directory never mix; the same capture gives the same names), or
/// `.pcapng` carrying the connection's own TLS keys when they are known (only those, never
/// the key log).
fn evidence_for(r: &ConnectionRecord, dir: &std::path::Path, stem: &str, keys: &Keys) -> Wanted {
    let keylog = r
        .client_random
        .and_then(|cr| keys.get(&cr).map(|(_, s)| s.to_keylog_lines(&cr)))
        .filter(|l| !l.is_empty());
    let ext = if keylog.is_some() { "pcapng" } else { "pcap" };
    Wanted {
        client: r.client,
        server: r.server,
        tcp: r.transport == "tcp",
        frames: r.frames,
        path: dir.join(format!("{stem}-{}-{:04}-{}.{ext}", r.start.compact(), r.id, r.cause())),
        keylog,
    }
}

/// Nothing analyzed in a capture that has packets is most often the wrong port: say, for
/// that file, how to name the right one.
fn port_hint(a: &AnalyzeArgs, cfg: &rdpscope::config::Config, path: &std::path::Path) -> String {
    let ports: Vec<String> = cfg.server_ports.iter().map(u16::to_string).collect();
    let ports = ports.join(", ");
    let file = path.display();
    match &a.analysis.filter {
        None => format!(
            "{file}: no packet to or from port {ports}: if RDP runs on another port, or through a SOCKS or HTTP proxy, name that port with --port N (e.g. --port 1080), or give a --filter"
        ),
        Some(f) => format!("{file}: no packet passed --filter {f:?} on an RDP port ({ports}): name the port RDP uses with --port N"),
    }
}

pub fn analyze(a: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let cfg = a.analysis.config();
    a.analysis.check_keylogs()?;
    let redactor = a.analysis.redactor()?;
    let filter = a.analysis.filter();
    if redactor.is_some() && a.write_evidence.is_some() {
        eprintln!("rdpscope: --redact: the evidence pcaps hold the original packets, names and all; only the report is redacted");
    }
    let stdout = io::stdout();
    let mut out = UnderBar::new(stdout.lock());
    let mut em = Emitter::new(&cfg, redactor);
    em.set_top(a.top);
    let mut groups = a.group_by.map(|g| {
        Groups::new(match g {
            cli::GroupByArg::Server => GroupBy::Server,
            cli::GroupByArg::Client => GroupBy::Client,
            cli::GroupByArg::Cause => GroupBy::Cause,
        })
    });
    let mut next_id = 1;
    let mut input_error = false;
    for path in &a.files {
        let bar = progress_bar(path);
        out.bar = bar.clone();
        // The keys an evidence file may carry: this capture's own and the key log files'.
        let keys = match &a.write_evidence {
            Some(_) => Keys {
                capture: keys::capture_keylog(path),
                files: keys::read_keylogs(&cfg.keylogs).unwrap_or_default(),
                ..Default::default()
            },
            None => Keys::default(),
        };
        let mut wanted = Vec::new();
        let stem = evidence_stem(path);
        let mut write_error: Option<io::Error> = None;
        let result = pipeline::analyze_file_streaming(
            path,
            &filter,
            &cfg,
            &mut em,
            next_id,
            &mut |b| bar.set_position(b),
            &mut |r| {
                let wanted_row = a.only != Some(cli::Only::Failed) || r.outcome == Outcome::Failed;
                if let Some(g) = groups.as_mut().filter(|_| wanted_row) {
                    g.add(&r);
                }
                if write_error.is_none() && wanted_row {
                    let written = match a.format {
                        // The group view replaces the per-connection text reports.
                        Format::Text if groups.is_some() => Ok(()),
                        Format::Json => json::connection(&mut out, &r),
                        Format::Ecs => ecs::connection(&mut out, &r),
                        Format::Ocsf => ocsf::connection(&mut out, &r),
                        // Counted by the emitter; printed once at the end.
                        Format::Prometheus => Ok(()),
                        Format::Text => text::connection(
                            &mut out,
                            &r,
                            &text::Options {
                                timeline: !a.no_timeline,
                            },
                        ),
                    };
                    if let Err(e) = written {
                        write_error = Some(e);
                    }
                }
                if let Some(dir) = a.write_evidence.as_deref().filter(|_| r.outcome == Outcome::Failed) {
                    wanted.push(evidence_for(&r, dir, &stem, &keys));
                }
            },
        );
        // Gone for good once the file is read: nothing of it stays above the report.
        let flushed = out.flush();
        bar.finish_and_clear();
        flushed?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        next_id = match result {
            Ok(n) => n,
            Err(e) => {
                eprintln!("rdpscope: {e}");
                input_error = true;
                em.add_file(FileSummary {
                    file: path.display().to_string(),
                    error: Some(e.to_string()),
                    ..Default::default()
                });
                continue;
            }
        };
        if let Some(f) = em.summary().files.last() {
            if f.frames > 0 && f.frames_analyzed == 0 {
                eprintln!("rdpscope: {}", port_hint(a, &cfg, path));
            }
            if let Some(w) = &f.warning {
                eprintln!(
                    "rdpscope: {}: reading stopped after frame {}: {w}; the report covers what was read",
                    path.display(),
                    f.frames
                );
            }
        }
        // The evidence is a second pass over the file: a FIFO or a device cannot be read twice.
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if a.write_evidence.is_some() && !regular && !wanted.is_empty() {
            eprintln!(
                "rdpscope: {}: --write-evidence needs a regular file (the capture is read twice); save it to a file first",
                path.display()
            );
            input_error = true;
        } else if let Some(dir) = &a.write_evidence {
            match extract::write(path, &wanted, dir) {
                Ok(w) => {
                    if !w.files.is_empty() {
                        eprintln!("rdpscope: {}", written_line(path, dir, &w.files));
                    }
                    for (p, why) in &w.failed {
                        eprintln!("rdpscope: evidence not written: {}: {why} (removed)", p.display());
                    }
                    if !w.failed.is_empty() {
                        input_error = true;
                    }
                }
                Err(e) => {
                    eprintln!("rdpscope: {e}");
                    input_error = true;
                }
            }
        }
    }
    let metrics = em.metrics().clone();
    let summary = em.finish();
    // When no file could be read at all, the error lines on stderr are the whole story.
    if summary.files.iter().any(|f| f.error.is_none()) {
        match a.format {
            Format::Json => json::summary(&mut out, &summary)?,
            Format::Text => {
                if let Some(g) = &groups {
                    text_rollups::groups(&mut out, g, a.top, summary.failed)?;
                    writeln!(out)?;
                }
                text::summary(&mut out, &summary)?
            }
            // Event streams hold events only: a summary line would not fit their schema.
            Format::Ecs | Format::Ocsf => {}
            Format::Prometheus => prometheus::render(
                &mut out,
                &prometheus::Exposition {
                    metrics,
                    packets: summary.files.iter().map(|f| f.frames_analyzed).sum(),
                    brute_force_sources: summary
                        .attacks
                        .iter()
                        .map(|d| d.source)
                        .collect::<std::collections::BTreeSet<_>>()
                        .len() as u64,
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..Default::default()
                },
            )?,
        }
    }
    out.flush()?;
    Ok(if input_error {
        ExitCode::from(2)
    } else if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
