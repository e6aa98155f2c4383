//! The one step from a finished connection to the record that goes out, shared by
//! `analyze`, `live` and `replay`: diagnose → build the record (a pure projection of the
//! connection and its diagnosis) → redact → link retries → count. Open connections shown
//! by a live view take the first three steps only: they are not final, so they are neither
//! linked nor counted.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod groups;
pub mod metrics;
pub mod redirect;
pub mod retry;
pub mod rollup;
pub mod spray;
pub mod summary;

use crate::analyzer::Finished;
use crate::config::Config;
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use crate::diagnosis;
use crate::record::redact::Redactor;
use crate::record::ConnectionRecord;
use summary::Summary;

/// The record of a finished connection, diagnosed, without redaction, linking or counting
/// (what tests, benchmarks and fuzzers compare).
pub fn record(f: &Finished, cfg: &Config) -> ConnectionRecord {
    match f {
        Finished::Tcp(c) => tcp_record(c, cfg),
        Finished::Udp(u) => udp_record(u),
    }
}

/// [`record`] of a connection that is done with: its timeline moves into the record
/// rather than being copied.
fn final_record(f: Finished, cfg: &Config) -> ConnectionRecord {
    match f {
        Finished::Tcp(mut c) => {
            let d = diagnosis::diagnose(&c, cfg);
            let events = std::mem::take(&mut c.timeline.events);
            let mut r = ConnectionRecord::from_tcp(&c, d);
            r.timeline = crate::record::timeline_of(events, c.first.ts);
            r
        }
        Finished::Udp(u) => udp_record(&u),
    }
}

/// The record of a TCP connection as it stands (open or finished).
pub fn tcp_record(c: &Connection, cfg: &Config) -> ConnectionRecord {
    ConnectionRecord::from_tcp(c, diagnosis::diagnose(c, cfg))
}

/// The record of an RDP-UDP flow as it stands.
pub fn udp_record(u: &UdpFlow) -> ConnectionRecord {
    ConnectionRecord::from_udp(u, diagnosis::diagnose_udp(u))
}

/// Turns finished connections, handed over as they become final, into linked, counted records.
pub struct Emitter {
    cfg: Config,
    redactor: Option<Redactor>,
    file: Option<String>,
    linker: retry::Linker,
    redirects: redirect::Redirects,
    stories: retry::Stories,
    summary: Summary,
    metrics: metrics::Metrics,
    top: usize,
    attacks: spray::Detector,
}

impl Emitter {
    /// `redactor`: `--redact` (every record and every open row goes through it).
    pub fn new(cfg: &Config, redactor: Option<Redactor>) -> Emitter {
        Emitter {
            cfg: cfg.clone(),
            redactor,
            file: None,
            linker: retry::Linker::default(),
            redirects: redirect::Redirects::default(),
            stories: retry::Stories::default(),
            summary: Summary::new(),
            metrics: metrics::Metrics::new(0),
            top: summary::DEFAULT_TOP,
            attacks: spray::Detector::new(spray::Thresholds::from_config(cfg)),
        }
    }

    /// The capture file the next records come from (`None` for an interface).
    pub fn set_file(&mut self, file: Option<String>) {
        self.file = file;
    }

    fn redacted(&self, mut r: ConnectionRecord) -> ConnectionRecord {
        r.file.clone_from(&self.file);
        if let Some(red) = &self.redactor {
            red.record(&mut r);
        }
        r
    }

    /// A finished connection's final record: linked to the attempt it retried and counted.
    pub fn finished(&mut self, f: Finished) -> ConnectionRecord {
        let (start, end) = f.span();
        let mut r = self.redacted(final_record(f, &self.cfg));
        self.linker.link(&mut r, start, end);
        self.redirects.link(&mut r);
        self.stories.add(&r, Some(&self.linker));
        self.summary.add(&r);
        self.metrics.add(&r);
        self.attacks.add(&r);
        r
    }

    /// The brute-force and spraying detector (its detections so far, the active ones).
    pub fn attacks(&self) -> &spray::Detector {
        &self.attacks
    }

    /// Give the metrics a `server` label for the `n` busiest servers (0: none).
    pub fn set_metrics_servers(&mut self, n: usize) {
        self.metrics = metrics::Metrics::new(n);
    }

    /// The metrics so far.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// The record of a connection still open, for a live view (not linked, not counted).
    pub fn open_tcp(&self, c: &Connection) -> ConnectionRecord {
        self.redacted(tcp_record(c, &self.cfg))
    }

    /// The record of an RDP-UDP flow still open, for a live view.
    pub fn open_udp(&self, u: &UdpFlow) -> ConnectionRecord {
        self.redacted(udp_record(u))
    }

    /// Totals so far (the stories are added by [`Emitter::finish`]).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Add a file's summary (frames read, analyzer statistics, errors).
    pub fn add_file(&mut self, f: summary::FileSummary) {
        self.summary.files.push(f);
    }

    /// The run's summary with the retry stories, leaving the counts and metrics in place for
    /// the views that still read them.
    pub fn finish_in_place(&mut self) -> Summary {
        let mut s = self.summary.clone();
        (s.stories, s.stories_omitted) = std::mem::take(&mut self.stories).finish();
        s.close(self.top);
        s.attacks.clone_from(&self.attacks.detections);
        s.attack_sources_evicted = self.attacks.sources_evicted;
        s
    }

    /// The run's summary, with the retry stories.
    pub fn finish(self) -> Summary {
        let mut s = self.summary;
        (s.stories, s.stories_omitted) = self.stories.finish();
        s.close(self.top);
        s.attacks = self.attacks.detections;
        s.attack_sources_evicted = self.attacks.sources_evicted;
        s
    }

    /// Rows per rollup of the summary (`--top N`).
    pub fn set_top(&mut self, n: usize) {
        self.top = n;
    }
}
