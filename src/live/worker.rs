//! The analysis thread of the live pipeline and the threads around it.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};

use super::frames::FrameStore;
use super::snapshot::{ConnView, ReplayPosition, Snapshot};
use crate::analyzer::{Analyzer, Finished};
use crate::capture::extract::Wanted;
use crate::capture::{self, keys, live::Live, CaptureCounters, CaptureMsg, Filter};
use crate::config::Config;
use crate::emit::summary::Summary;
use crate::emit::Emitter;
use crate::record::redact::Redactor;
use crate::record::ConnectionRecord;
use crate::ts::Ts;

/// Open TCP connections given a row in each snapshot (the most recently active): building
/// their records is the cost of a refresh, so it must not grow with a gateway's load.
pub const MAX_OPEN_ROWS: usize = 2000;
/// Frame batches the channel from the capture thread holds: a slower analysis makes the
/// capture side drop (and count), never grow.
const CHANNEL_BATCHES: usize = 64;

/// Receives each connection as it ends.
pub type RecordSink = Box<dyn FnMut(&ConnectionRecord) + Send>;

/// Where packets come from.
pub enum Source {
    /// An interface already opened (privileges are dropped before the threads start).
    Interface { name: String, live: Live },
    /// A file replayed with its timing divided by `speed`, or as fast as possible.
    File { path: PathBuf, speed: Option<f64> },
}

pub struct Options {
    pub cfg: Config,
    pub filter: Filter,
    pub source: Source,
    /// How often a snapshot is published.
    pub tick: Duration,
    /// Finished connections kept for the view.
    pub history: usize,
    /// Bytes of raw frames kept for writing connections out.
    pub frame_store_bytes: usize,
    /// Called in the analysis thread for every connection as it ends (headless JSON).
    pub on_finished: Option<RecordSink>,
    /// `--redact`: applied to every record and open row.
    pub redactor: Option<Redactor>,
    /// `--metrics-servers N`: a `server` label for the N busiest servers (0: none).
    pub metrics_servers: usize,
}

/// Requests from a view to the analysis thread.
pub enum Command {
    /// Write the kept packets of connection `id` to `path`; the result goes to the status line.
    WritePcap { id: u64, path: PathBuf },
}

pub struct Shared {
    pub snapshot: Mutex<Arc<Snapshot>>,
    pub counters: Arc<CaptureCounters>,
    pub finished: AtomicBool,
    /// The run's summary (counts and retry stories), set when the source has ended.
    pub summary: Mutex<Option<Summary>>,
}

pub struct Handle {
    pub shared: Arc<Shared>,
    pub commands: Sender<Command>,
    threads: Vec<JoinHandle<()>>,
}

impl Handle {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.lock().map(|s| Arc::clone(&s)).unwrap_or_default()
    }

    /// The run's summary, once the source has ended.
    pub fn summary(&self) -> Option<Summary> {
        self.shared.summary.lock().ok().and_then(|s| s.clone())
    }

    pub fn stop(&self) {
        self.shared.counters.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the analysis thread has finished (source exhausted or stopped).
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Relaxed)
    }

    /// Wait for both threads.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Start the capture and analysis threads.
pub fn spawn(opts: Options) -> Handle {
    let counters = Arc::new(CaptureCounters::default());
    let (source_name, live, replay) = match &opts.source {
        Source::Interface { name, .. } => (name.clone(), true, None),
        Source::File { path, speed } => (
            path.display().to_string(),
            false,
            Some(ReplayPosition {
                speed: *speed,
                ..ReplayPosition::default()
            }),
        ),
    };
    let shared = Arc::new(Shared {
        snapshot: Mutex::new(Arc::new(Snapshot {
            source: source_name.clone(),
            live,
            replay,
            ..Default::default()
        })),
        counters: Arc::clone(&counters),
        finished: AtomicBool::new(false),
        summary: Mutex::new(None),
    });
    // Bounded: a slow analysis makes the capture side drop (and count), never grow.
    let (tx, rx) = bounded::<CaptureMsg>(CHANNEL_BATCHES);
    // Every batch that can exist at once: the channel's, the one being read, and on the
    // capture side the one being sent with the one taken to follow it.
    let pool = capture::Pool::new(CHANNEL_BATCHES + 3);
    let pool2 = pool.clone();
    let (cmd_tx, cmd_rx) = bounded::<Command>(16);
    let Options {
        cfg,
        filter,
        source,
        tick,
        history,
        frame_store_bytes,
        on_finished,
        redactor,
        metrics_servers,
    } = opts;
    let file = match &source {
        Source::Interface { .. } => None,
        Source::File { path, .. } => Some(path.display().to_string()),
    };
    let c2 = Arc::clone(&counters);
    let capture = std::thread::Builder::new()
        .name("capture".into())
        .spawn(move || match source {
            Source::Interface { live, .. } => capture::live::run(live, tx, pool2, c2),
            Source::File { path, speed } => capture::replay::run(&path, &filter, speed, tx, pool2, c2),
        });
    let s2 = Arc::clone(&shared);
    let analysis = std::thread::Builder::new().name("analysis".into()).spawn(move || {
        let mut emit = Emitter::new(&cfg, redactor);
        emit.set_metrics_servers(metrics_servers);
        let mut analyzer = Analyzer::new(cfg.clone(), 1);
        if let Some(f) = &file {
            analyzer.keys_mut().capture = keys::capture_keylog(std::path::Path::new(f));
        }
        analyzer.keys_mut().server = keys::read_server_keys(&cfg.server_keys).unwrap_or_default();
        emit.set_file(file);
        let keylogs = cfg.keylogs.iter().cloned().map(keys::Follower::new).collect();
        let mut e = Worker {
            analyzer,
            keylogs,
            last_packet: None,
            replay,
            cfg,
            emit,
            history: VecDeque::new(),
            max_history: history,
            store: FrameStore::new(frame_store_bytes),
            on_finished,
            shared: Arc::clone(&s2),
            source: source_name,
            live,
            status: None,
            last_frames: 0,
            last_tick: Instant::now(),
            pps: 0.0,
            forgotten: 0,
        };
        e.run(rx, &pool, cmd_rx, tick);
        s2.finished.store(true, Ordering::Relaxed);
    });
    Handle {
        shared,
        commands: cmd_tx,
        threads: [capture, analysis].into_iter().filter_map(Result::ok).collect(),
    }
}

/// The analysis thread's state.
struct Worker {
    analyzer: Analyzer,
    /// `--keylog` files, re-read as they grow (a client appends a line per connection).
    keylogs: Vec<keys::Follower>,
    /// The newest packet's capture time and when it was handled (wall clock).
    last_packet: Option<(Ts, Instant)>,
    /// A replay's position in its file (first and newest packet times) and speed.
    replay: Option<ReplayPosition>,
    cfg: Config,
    emit: Emitter,
    /// Finished connections, oldest first, with the time of their last packet.
    history: VecDeque<(ConnView, Ts)>,
    max_history: usize,
    store: FrameStore,
    on_finished: Option<RecordSink>,
    shared: Arc<Shared>,
    source: String,
    live: bool,
    status: Option<String>,
    last_frames: u64,
    last_tick: Instant,
    pps: f64,
    forgotten: u64,
}

impl Worker {
    fn run(&mut self, rx: Receiver<CaptureMsg>, pool: &capture::Pool, cmds: Receiver<Command>, tick: Duration) {
        let mut ended = false;
        self.poll_keys();
        loop {
            select! {
                recv(rx) -> msg => match msg {
                    Ok(CaptureMsg::Frames(frames)) => {
                        for f in frames.iter() {
                            self.store.push(&f);
                            self.analyzer.on_frame(f.number, f.ts, f.link, f.data, f.wire_len);
                        }
                        if let Some(ts) = frames.last_ts() {
                            self.last_packet = Some((ts, Instant::now()));
                        }
                        if let (Some(r), Some(first), Some(last)) = (&mut self.replay, frames.first_ts(), frames.last_ts()) {
                            r.first.get_or_insert(first);
                            r.at = Some(last);
                        }
                        pool.give(frames);
                        let done = self.analyzer.take_ready(0);
                        self.retire(done);
                    }
                    Ok(CaptureMsg::End(why)) => {
                        self.status = why;
                        ended = true;
                    }
                    Err(_) => ended = true,
                },
                recv(cmds) -> cmd => if let Ok(c) = cmd { self.command(c) },
                default(tick) => {}
            }
            if ended {
                let analyzer = std::mem::replace(&mut self.analyzer, Analyzer::new(self.cfg.clone(), 1));
                let (rest, _) = analyzer.finish();
                self.retire(rest);
                let summary = self.emit.finish_in_place();
                if let Ok(mut s) = self.shared.summary.lock() {
                    *s = Some(summary);
                }
                self.publish(true);
                self.shared.finished.store(true, Ordering::Relaxed);
                // Keep serving commands (writing pcaps) until the view goes away.
                while let Ok(c) = cmds.recv() {
                    self.command(c);
                    self.publish(true);
                }
                return;
            }
            if self.last_tick.elapsed() >= tick {
                self.poll_keys();
                self.idle();
                self.publish(false);
            }
        }
    }

    fn retire(&mut self, done: Vec<Finished>) {
        for f in done {
            let rtt_ms = rtt_of(&f);
            let (_, end) = f.span();
            let r = self.emit.finished(f);
            if let Some(cb) = self.on_finished.as_mut() {
                cb(&r);
            }
            if self.max_history == 0 {
                continue;
            }
            self.history.push_back((
                ConnView {
                    record: r,
                    open: false,
                    rtt_ms,
                },
                end,
            ));
            if self.history.len() > self.max_history {
                self.history.pop_front();
                self.forgotten += 1;
            }
        }
    }

    /// On a quiet live link capture time stands still; let it move with the wall clock so a
    /// connection that ended is reported within `close_linger` (+ a tick), not when the next
    /// packet happens to come. Replays keep the file's own time.
    fn idle(&mut self) {
        if !self.live {
            return;
        }
        let Some((ts, at)) = self.last_packet else { return };
        let elapsed = i64::try_from(at.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.analyzer.advance_to(Ts(ts.0.saturating_add(elapsed)));
        let done = self.analyzer.take_ready(0);
        self.retire(done);
    }

    /// New lines of the key log files go to the analyzer before the next packets.
    fn poll_keys(&mut self) {
        let files = &mut self.analyzer.keys_mut().files;
        for k in &mut self.keylogs {
            k.poll(files);
        }
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::WritePcap { id, path } => {
                let rec = self
                    .history
                    .iter()
                    .map(|(v, _)| v.record.clone())
                    .find(|r| r.id == id)
                    .or_else(|| {
                        self.analyzer
                            .open_connections()
                            .find(|c| c.id == id)
                            .map(|c| self.emit.open_tcp(&c))
                    });
                self.status = Some(match rec {
                    None => format!("connection #{id} is no longer kept"),
                    Some(r) => {
                        let keylog = r
                            .client_random
                            .and_then(|cr| self.analyzer.keys().get(&cr).map(|(_, s)| s.to_keylog_lines(&cr)))
                            .filter(|l| !l.is_empty());
                        // The connection's keys go with it: a pcapng with a DSB.
                        let path = if keylog.is_some() {
                            path.with_extension("pcapng")
                        } else {
                            path
                        };
                        let wanted = Wanted {
                            client: r.client,
                            server: r.server,
                            tcp: r.transport == "tcp",
                            frames: r.frames,
                            path: path.clone(),
                            keylog,
                        };
                        match self.store.write(&wanted) {
                            Ok((n, partial)) => format!(
                                "wrote {n} packets of #{id} to {}{}",
                                path.display(),
                                if partial {
                                    " (older packets were no longer kept)"
                                } else {
                                    ""
                                }
                            ),
                            Err(e) => format!("cannot write #{id}: {e}"),
                        }
                    }
                });
            }
        }
    }

    fn publish(&mut self, ended: bool) {
        let c = &self.shared.counters;
        if self.status.is_none() && CaptureCounters::get(&c.write_errors) > 0 {
            // Shown in the view's status line: the pcap of --write is incomplete.
            self.status = Some("--write: the pcap could not be written (disk full?); the analysis goes on".into());
        }
        let frames = CaptureCounters::get(&c.frames);
        let dt = self.last_tick.elapsed().as_secs_f64();
        if dt > 0.0 {
            self.pps = frames.saturating_sub(self.last_frames) as f64 / dt;
        }
        self.last_frames = frames;
        self.last_tick = Instant::now();
        // Headless runs (no history kept) have no rows to show: only the counts are worked out,
        // not a record per open connection five times a second.
        let (mut conns, n_open, n_listed) = if self.max_history == 0 {
            (Vec::new(), self.analyzer.open_count(), 0)
        } else {
            self.rows()
        };
        conns.sort_by_key(|v| v.record.id);
        let active = self.emit.attacks().active_sources();
        let totals = self.emit.summary();
        let snap = Snapshot {
            source: self.source.clone(),
            live: self.live,
            frames,
            bytes: CaptureCounters::get(&c.bytes),
            pps: if ended { 0.0 } else { self.pps },
            dropped_by_us: CaptureCounters::get(&c.dropped_by_us),
            kernel_dropped: CaptureCounters::get(&c.kernel_dropped),
            if_dropped: CaptureCounters::get(&c.if_dropped),
            conns,
            open: n_open,
            open_listed: n_listed,
            success: totals.success,
            failed: totals.failed,
            incomplete: totals.incomplete,
            failures_by_cause: totals.failures_by_cause.clone(),
            ended,
            status: self.status.clone(),
            forgotten: self.forgotten,
            metrics: self.emit.metrics().clone(),
            write_errors: CaptureCounters::get(&c.write_errors),
            brute_force_sources: active.len() as u64,
            attacks: active.into_iter().take(3).cloned().collect(),
            replay: self.replay,
        };
        if let Ok(mut s) = self.shared.snapshot.lock() {
            *s = Arc::new(snap);
        }
    }
}

impl Worker {
    /// The view's rows: the finished connections kept, and the most recently active open ones;
    /// with how many are open and how many of those are listed.
    fn rows(&self) -> (Vec<ConnView>, usize, usize) {
        let mut conns: Vec<ConnView> = self.history.iter().map(|(v, _)| v.clone()).collect();
        let (tcp_open, tcp_total) = self.analyzer.recent_open_connections(MAX_OPEN_ROWS);
        let mut open: Vec<ConnView> = tcp_open
            .into_iter()
            .map(|c| ConnView {
                record: self.emit.open_tcp(&c),
                open: true,
                rtt_ms: c.tcp.rtt_samples.iter().map(|(_, r)| *r).collect(),
            })
            .chain(self.analyzer.open_udp_flows().map(|u| ConnView {
                record: self.emit.open_udp(u),
                open: true,
                rtt_ms: Vec::new(),
            }))
            .collect();
        let n_listed = open.len();
        let n_open = n_listed + tcp_total.saturating_sub(MAX_OPEN_ROWS.min(tcp_total));
        conns.append(&mut open);
        (conns, n_open, n_listed)
    }
}

fn rtt_of(f: &Finished) -> Vec<f64> {
    match f {
        Finished::Tcp(c) => c.tcp.rtt_samples.iter().map(|(_, r)| *r).collect(),
        Finished::Udp(_) => Vec::new(),
    }
}
