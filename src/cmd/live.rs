//! `live`, `replay` and `interfaces`: the CLI side of the live pipeline.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdpscope::capture::live as capture_live;
use rdpscope::live::{self as pipeline, Options, Source};
use rdpscope::record::ConnectionRecord;
use rdpscope::report::{ecs, json, ocsf};

use super::cli::{AnalysisArgs, LiveArgs, LiveFormat, MetricsArgs, ReplayArgs};

/// Bytes of recent raw frames kept so `w` can write a connection's packets.
const FRAME_STORE: usize = 64 << 20;
/// Finished connections kept for the view.
const HISTORY: usize = 5000;

fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    // SIGINT, SIGTERM and SIGHUP end the run cleanly: the terminal is restored, open
    // connections are finished and printed, pcaps written whole. The handler only sets a
    // flag and needs no thread, so no thread exists before privileges are dropped.
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    stop
}

/// What happened to the headless JSON output, shared by the printer (analysis thread) and the
/// run's loop.
#[derive(Default)]
struct Output {
    /// stdout's reader went away (`| head`): the run ends quietly, as tcpdump's does.
    closed: AtomicBool,
    /// Records that could not be written (full disk, I/O error); the run goes on.
    lost: Arc<AtomicU64>,
}

/// Whether stdout is a pipe whose reader has gone: poll reports an error on its write end.
fn stdout_closed() -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let out = io::stdout();
    let mut fds = [PollFd::new(out.as_fd(), PollFlags::POLLOUT)];
    poll(&mut fds, PollTimeout::ZERO).is_ok()
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}

/// Writes one record as one line of a headless format.
type LineWriter = fn(&mut dyn Write, &ConnectionRecord) -> io::Result<()>;

/// The line printer for headless runs (JSON, ECS, OCSF): one line per connection as it
/// ends, flushed at once for log shippers. A line is serialized whole before it is written; after a failed
/// write (a full disk) the next line starts on a line of its own, so a reader loses that
/// record, never the ones after it, and the failure is said once on stderr and counted.
fn line_printer(state: Arc<Output>, write_line: LineWriter) -> Box<dyn FnMut(&ConnectionRecord) + Send> {
    let mut cut = false;
    let mut said = false;
    Box::new(move |r| {
        if state.closed.load(Ordering::Relaxed) {
            return;
        }
        let mut line = Vec::with_capacity(2048);
        if cut {
            line.push(b'\n');
        }
        if write_line(&mut line, r).is_err() {
            return;
        }
        let out = io::stdout();
        let mut out = out.lock();
        match out.write_all(&line).and_then(|()| out.flush()) {
            Ok(()) => cut = false,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => state.closed.store(true, Ordering::Relaxed),
            Err(e) => {
                cut = true;
                state.lost.fetch_add(1, Ordering::Relaxed);
                if !said {
                    said = true;
                    eprintln!("rdpscope: cannot write a record to stdout: {e}; the analysis goes on, lost records are counted");
                }
            }
        }
    })
}

/// The metrics endpoint of a run: its bound listener and the per-server label bound.
struct MetricsEndpoint {
    listener: Option<std::net::TcpListener>,
    servers: usize,
}

impl MetricsEndpoint {
    fn bind(a: &MetricsArgs) -> Result<MetricsEndpoint, String> {
        Ok(MetricsEndpoint {
            listener: a.listen.as_deref().map(super::metrics::bind).transpose()?,
            servers: a.servers,
        })
    }
}

fn run(
    source: Source,
    analysis: &AnalysisArgs,
    format: LiveFormat,
    stop: Arc<AtomicBool>,
    metrics: MetricsEndpoint,
) -> anyhow::Result<ExitCode> {
    let output = Arc::new(Output::default());
    let writer: Option<LineWriter> = match format {
        LiveFormat::Tui => None,
        LiveFormat::Json => Some(json::connection),
        LiveFormat::Ecs => Some(ecs::connection),
        LiveFormat::Ocsf => Some(ocsf::connection),
    };
    let on_finished = writer.map(|w| line_printer(Arc::clone(&output), w));
    let cfg = analysis.config();
    analysis.check_keylogs()?;
    let redactor = analysis.redactor()?;
    if redactor.is_some() {
        eprintln!(
            "rdpscope: --redact: pcaps written with w/--write hold the original packets; only the views are redacted"
        );
    }
    let handle = pipeline::spawn(Options {
        cfg,
        filter: analysis.filter(),
        source,
        tick: rdpscope::tui::TICK,
        // Headless runs have no view to list connections in or write them from.
        history: if format == LiveFormat::Tui { HISTORY } else { 0 },
        frame_store_bytes: if format == LiveFormat::Tui { FRAME_STORE } else { 0 },
        on_finished,
        redactor,
        metrics_servers: metrics.servers,
    });
    let serving_metrics = metrics.listener.is_some();
    if let Some(l) = metrics.listener {
        if let Ok(a) = l.local_addr() {
            eprintln!("rdpscope: metrics on http://{a}/metrics");
        }
        super::metrics::spawn(l, Arc::clone(&handle.shared), Arc::clone(&output.lost))?;
    }
    match format {
        LiveFormat::Tui => {
            let r = rdpscope::tui::run(&handle, &stop);
            handle.stop();
            r?;
            let snap = handle.snapshot();
            eprintln!(
                "rdpscope: {} frames, {} connections: {} ok, {} failed, {} incomplete, {} open; dropped {} by rdpscope, {} by the kernel",
                snap.frames,
                snap.conns.len(),
                snap.success,
                snap.failed,
                snap.incomplete,
                snap.open,
                snap.dropped_by_us,
                snap.kernel_dropped
            );
            // The analysis thread keeps serving commands after the source ends; leave it.
            Ok(ExitCode::SUCCESS)
        }
        LiveFormat::Json | LiveFormat::Ecs | LiveFormat::Ocsf => {
            let mut write_errors_said = false;
            while !handle.is_finished() {
                if stop.load(Ordering::Relaxed) {
                    handle.stop();
                }
                // Said when it happens: the analysis goes on, the pcap is incomplete.
                if !write_errors_said && handle.shared.counters.write_errors.load(Ordering::Relaxed) > 0 {
                    write_errors_said = true;
                    eprintln!("rdpscope: --write: cannot write the pcap (disk full?): it is incomplete from here on; the analysis goes on");
                }
                if output.closed.load(Ordering::Relaxed) || stdout_closed() {
                    output.closed.store(true, Ordering::Relaxed);
                    handle.stop();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if output.closed.load(Ordering::Relaxed) {
                // Nobody reads any more: nothing to say, and no error either.
                return Ok(ExitCode::SUCCESS);
            }
            let failed_flushes = handle.shared.counters.write_errors.load(Ordering::Relaxed);
            if failed_flushes > 0 {
                eprintln!("rdpscope: --write: {failed_flushes} writes of the pcap failed: it is incomplete");
            }
            let lost = output.lost.load(Ordering::Relaxed);
            if lost > 0 {
                eprintln!("rdpscope: {lost} records could not be written to stdout");
            }
            let snap = handle.snapshot();
            if snap.live {
                eprintln!(
                    "rdpscope: {} frames captured; dropped: {} by rdpscope (analysis behind), {} by the kernel, {} by the interface",
                    snap.frames, snap.dropped_by_us, snap.kernel_dropped, snap.if_dropped
                );
            }
            let s = handle.summary().unwrap_or_default();
            // ECS and OCSF streams hold events only: the summary goes out with JSON lines.
            if format == LiveFormat::Json {
                let mut out = io::stdout().lock();
                json::summary(&mut out, &s)?;
                out.flush()?;
            }
            if let Some(e) = &snap.status {
                eprintln!("rdpscope: {e}");
            }
            if serving_metrics && !stop.load(Ordering::Relaxed) && !snap.live {
                // A replay's final counts stay scrapable until the run is told to end.
                eprintln!("rdpscope: the replay ended; metrics are still served until Ctrl-C or SIGTERM");
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            // A live capture that ended on its own (the interface went away) failed, like
            // tcpdump's does; an unreadable replay file is an input error.
            let capture_failed = snap.live && snap.status.is_some() && !stop.load(Ordering::Relaxed);
            Ok(
                if capture_failed || snap.status.as_deref().is_some_and(|e| e.contains("cannot open")) {
                    ExitCode::from(2)
                } else if s.failed > 0 {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                },
            )
        }
    }
}

pub fn live(a: &LiveArgs) -> anyhow::Result<ExitCode> {
    // Before anything is announced: a Ctrl-C right after "capturing on" must end the run
    // cleanly (with its summary), not kill it.
    let stop = stop_flag();
    // Bound while privileges are held (any port), served by a thread started after the drop.
    let metrics = match MetricsEndpoint::bind(&a.metrics) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rdpscope: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let cap = match capture_live::open(&a.interface, &a.analysis.filter(), a.write.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rdpscope: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    // The capture is open: from here on no privilege is needed.
    capture_live::clear_bounding_set();
    if let Some(user) = &a.user {
        if let Err(e) = capture_live::switch_user(user) {
            eprintln!("rdpscope: --user {user}: {e}");
            return Ok(ExitCode::from(2));
        }
    }
    if let Err(e) = capture_live::drop_privileges() {
        eprintln!("rdpscope: warning: {e}");
    }
    if a.format != LiveFormat::Tui {
        eprintln!(
            "rdpscope: capturing on {} (capabilities dropped); Ctrl-C ends and prints what is still open",
            a.interface
        );
    }
    run(
        Source::Interface {
            name: a.interface.clone(),
            live: cap,
        },
        &a.analysis,
        a.format,
        stop,
        metrics,
    )
}

pub fn replay(a: &ReplayArgs) -> anyhow::Result<ExitCode> {
    // Check the file before the UI takes the terminal, so errors are one plain line
    // (standard input, `-`, is read as it comes).
    if let Err(e) = Some(&a.file)
        .filter(|f| f.as_os_str() != "-")
        .map_or(Ok(()), |f| std::fs::File::open(f).map(drop))
    {
        eprintln!("rdpscope: {}: cannot open: {e}", a.file.display());
        return Ok(ExitCode::from(2));
    }
    let speed = if a.fast { None } else { Some(a.speed) };
    let metrics = match MetricsEndpoint::bind(&a.metrics) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rdpscope: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let stop = stop_flag();
    run(
        Source::File {
            path: a.file.clone(),
            speed,
        },
        &a.analysis,
        a.format,
        stop,
        metrics,
    )
}

pub fn interfaces() -> anyhow::Result<ExitCode> {
    match capture_live::list() {
        Ok(list) => {
            let mut out = io::stdout().lock();
            for (name, desc) in list {
                writeln!(out, "{name:<16} {desc}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rdpscope: cannot list interfaces: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
