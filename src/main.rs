//! The `rdpscope` command line: a thin shell over the library.
#![forbid(unsafe_code)]

mod cli;
mod live_cmd;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use cli::{AnalyzeArgs, Cli, Command, Format};
use rdpscope::diagnosis::Outcome;
use rdpscope::pipeline;
use rdpscope::report::{json, summary::FileSummary, summary::Summary, text};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => analyze(&a),
        Command::Live(a) => live_cmd::live(&a),
        Command::Replay(a) => live_cmd::replay(&a),
        Command::Interfaces => live_cmd::interfaces(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`| head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("rdpscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn progress_bar(path: &std::path::Path) -> ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(path.display().to_string());
    bar
}

fn analyze(a: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = a.analysis.config();
    cfg.redact = a.analysis.redactor()?;
    let filter = a.analysis.filter();
    if cfg.redact.is_some() && a.write_evidence.is_some() {
        eprintln!("rdpscope: --redact: the evidence pcaps hold the original packets, names and all; only the report is redacted");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut summary = Summary::new();
    let mut next_id = 1;
    let mut input_error = false;
    for path in &a.files {
        let bar = progress_bar(path);
        let mut failed = Vec::new();
        let mut write_error: Option<io::Error> = None;
        let result =
            pipeline::analyze_file_streaming(path, &filter, &cfg, next_id, &mut |b| bar.set_position(b), &mut |r| {
                summary.add(&r);
                if write_error.is_none() && (a.only != Some(cli::Only::Failed) || r.outcome == Outcome::Failed) {
                    let written = match a.format {
                        Format::Json => json::connection(&mut out, &r),
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
                if a.write_evidence.is_some() && r.outcome == Outcome::Failed {
                    failed.push(r);
                }
            });
        bar.finish_and_clear();
        if let Some(e) = write_error {
            return Err(e.into());
        }
        let res = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("rdpscope: {e}");
                input_error = true;
                summary.files.push(FileSummary {
                    file: path.display().to_string(),
                    error: Some(e.to_string()),
                    ..Default::default()
                });
                continue;
            }
        };
        if let Some(w) = &res.summary.warning {
            eprintln!(
                "rdpscope: {}: reading stopped after frame {}: {w}; the report covers what was read",
                path.display(),
                res.summary.frames
            );
        }
        next_id = res.next_id;
        summary.stories.extend(res.stories);
        if let Some(dir) = &a.write_evidence {
            match rdpscope::capture::evidence::write(path, &failed, dir) {
                Ok(paths) => {
                    for p in paths {
                        eprintln!("rdpscope: evidence written: {}", p.display());
                    }
                }
                Err(e) => {
                    eprintln!("rdpscope: {e}");
                    input_error = true;
                }
            }
        }
        summary.files.push(res.summary);
    }
    // When no file could be read at all, the error lines on stderr are the whole story.
    if summary.files.iter().any(|f| f.error.is_none()) {
        match a.format {
            Format::Json => json::summary(&mut out, &summary)?,
            Format::Text => text::summary(&mut out, &summary)?,
        }
    }
    out.flush()?;
    let read: Vec<&FileSummary> = summary.files.iter().filter(|f| f.error.is_none()).collect();
    if !read.is_empty() && read.iter().all(|f| f.frames > 0 && f.frames_analyzed == 0) {
        // Nothing to report is most often the wrong port: say how to name the right one.
        let ports: Vec<String> = cfg.server_ports.iter().map(u16::to_string).collect();
        let ports = ports.join(", ");
        match &a.analysis.filter {
            None => eprintln!(
                "rdpscope: no packet to or from port {ports} in {}: if RDP runs on another port, or through a SOCKS or HTTP proxy, name that port with --port N (e.g. --port 1080), or give a --filter",
                if read.len() == 1 { "the capture" } else { "the captures" }
            ),
            Some(f) => eprintln!(
                "rdpscope: no packet passed --filter {f:?} on an RDP port ({ports}): name the port RDP uses with --port N"
            ),
        }
    }
    Ok(if input_error {
        ExitCode::from(2)
    } else if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
