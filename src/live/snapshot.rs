//! What a view gets at each tick: counters and every connection worth showing.

use std::collections::BTreeMap;

use crate::record::ConnectionRecord;

/// One connection as a view shows it.
#[derive(Debug, Clone)]
pub struct ConnView {
    pub record: ConnectionRecord,
    /// Still in the flow table (its outcome may change).
    pub open: bool,
    /// RTT samples in ms (for the sparkline), in time order.
    pub rtt_ms: Vec<f64>,
}

/// Where a replay is: the capture time of its first packet and of the newest one handed to
/// the analysis, and its speed (None: as fast as possible). What a file has instead of a
/// packet rate and kernel drops.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayPosition {
    pub first: Option<crate::ts::Ts>,
    pub at: Option<crate::ts::Ts>,
    pub speed: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Interface name or file path.
    pub source: String,
    pub live: bool,
    pub frames: u64,
    pub bytes: u64,
    /// Frames per second over the last tick interval (wall clock).
    pub pps: f64,
    /// Frames the capture thread dropped because the analysis was behind.
    pub dropped_by_us: u64,
    /// libpcap's kernel counters (live only).
    pub kernel_dropped: u64,
    pub if_dropped: u64,
    /// Connections, oldest first (views sort as they like).
    pub conns: Vec<ConnView>,
    /// Open connections in all; `conns` lists at most `MAX_OPEN_ROWS` of them (the most
    /// recently active).
    pub open: usize,
    pub open_listed: usize,
    pub success: u64,
    pub failed: u64,
    pub incomplete: u64,
    pub failures_by_cause: BTreeMap<String, u64>,
    /// The source is exhausted (replay finished, or the capture stopped).
    pub ended: bool,
    /// Why the source ended, if not cleanly; or the last message for the status line.
    pub status: Option<String>,
    /// Finished connections no longer kept in `conns` (the bound on history).
    pub forgotten: u64,
    /// Counters over finished connections (the Prometheus exposition).
    pub metrics: crate::emit::metrics::Metrics,
    /// Failed flushes of `--write`'s pcap.
    pub write_errors: u64,
    /// Client addresses with an active brute_force or password_spray finding.
    pub brute_force_sources: u64,
    /// The active detections, the most recent first (at most a few, for the header).
    pub attacks: Vec<crate::emit::spray::Detection>,
    /// A replayed file's position and speed (None for an interface).
    pub replay: Option<ReplayPosition>,
}

impl Snapshot {
    /// A finished snapshot of analysed records (for tests and for views of a file).
    pub fn from_records(source: &str, records: Vec<ConnectionRecord>) -> Snapshot {
        let mut s = Snapshot {
            source: source.to_string(),
            ended: true,
            ..Default::default()
        };
        let mut counts = crate::emit::summary::Summary::new();
        for r in records {
            s.frames = s.frames.max(r.frames[1]);
            counts.add(&r);
            s.conns.push(ConnView {
                record: r,
                open: false,
                rtt_ms: Vec::new(),
            });
        }
        s.success = counts.success;
        s.failed = counts.failed;
        s.incomplete = counts.incomplete;
        s.failures_by_cause = counts.failures_by_cause;
        s
    }
}
