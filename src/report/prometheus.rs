//! Prometheus text exposition (format 0.0.4) of the run's metrics: served on `/metrics` by
//! `live --metrics`, printed once by `analyze --format prometheus`. No IP address or user
//! name is a label unless the per-server label was asked for (`--metrics-servers N`).

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::diagnosis::catalog::REMEDIES;
use crate::emit::metrics::{Counts, Metrics, OUTCOMES, PHASES, RTT_BUCKETS};
use crate::emit::spray::ATTACK_CODES;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A per-server counter: its name, what it counts, and which of the counts it writes.
type Series = (&'static str, &'static str, fn(&Counts) -> u64);

/// Everything one exposition says.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    pub metrics: Metrics,
    pub open_connections: u64,
    pub packets: u64,
    /// Dropped packets by who dropped them: rdpscope (analysis behind), kernel, interface.
    pub dropped: [u64; 3],
    /// Failed writes: of `--write`'s pcap, of records to stdout.
    pub write_errors: [u64; 2],
    /// Sources with an active brute-force or password-spraying finding.
    pub brute_force_sources: u64,
    pub version: String,
}

fn head(out: &mut dyn Write, name: &str, kind: &str, help: &str) -> io::Result<()> {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")
}

fn outcome_name(i: usize) -> &'static str {
    match OUTCOMES.get(i) {
        Some(crate::diagnosis::Outcome::Success) => "success",
        Some(crate::diagnosis::Outcome::Failed) => "failed",
        _ => "incomplete",
    }
}

/// Every cause a failure can have: the catalogue's codes, and `unexplained`; all are
/// written (at 0 too) so that rates over them exist from the first scrape.
fn causes(m: &Metrics) -> BTreeSet<&'static str> {
    let mut c: BTreeSet<&'static str> = REMEDIES
        .iter()
        .filter_map(|(k, _)| k.split(':').next())
        // Run-level findings, never a connection's cause.
        .filter(|k| !ATTACK_CODES.contains(k))
        .collect();
    c.insert("unexplained");
    c.extend(m.failures.keys().copied());
    c
}

pub fn render(out: &mut dyn Write, e: &Exposition) -> io::Result<()> {
    let m = &e.metrics;
    head(
        out,
        "rdpscope_connections_total",
        "counter",
        "RDP connections finished, by outcome.",
    )?;
    for (i, n) in m.connections.iter().enumerate() {
        writeln!(out, "rdpscope_connections_total{{outcome=\"{}\"}} {n}", outcome_name(i))?;
    }
    head(
        out,
        "rdpscope_failures_total",
        "counter",
        "Failed RDP connections, by the finding code of their cause (docs/findings.md).",
    )?;
    for c in causes(m) {
        let n = m.failures.get(c).copied().unwrap_or(0);
        writeln!(out, "rdpscope_failures_total{{cause=\"{c}\"}} {n}")?;
    }
    head(
        out,
        "rdpscope_phase_reached_total",
        "counter",
        "RDP connections finished, by the furthest phase they reached.",
    )?;
    for (p, n) in PHASES.iter().zip(m.phase_reached.iter()) {
        writeln!(out, "rdpscope_phase_reached_total{{phase=\"{}\"}} {n}", p.name())?;
    }
    head(
        out,
        "rdpscope_handshake_rtt_seconds",
        "histogram",
        "TCP handshake round-trip time as seen by the sensor.",
    )?;
    let mut cumulative = 0;
    for (b, n) in RTT_BUCKETS.iter().zip(m.rtt_buckets.iter()) {
        cumulative += n;
        writeln!(out, "rdpscope_handshake_rtt_seconds_bucket{{le=\"{b}\"}} {cumulative}")?;
    }
    writeln!(
        out,
        "rdpscope_handshake_rtt_seconds_bucket{{le=\"+Inf\"}} {}",
        m.rtt_count
    )?;
    writeln!(out, "rdpscope_handshake_rtt_seconds_sum {}", m.rtt_sum_seconds)?;
    writeln!(out, "rdpscope_handshake_rtt_seconds_count {}", m.rtt_count)?;
    head(
        out,
        "rdpscope_open_connections",
        "gauge",
        "RDP connections being tracked now.",
    )?;
    writeln!(out, "rdpscope_open_connections {}", e.open_connections)?;
    head(
        out,
        "rdpscope_capture_packets_total",
        "counter",
        "Packets captured (or read from the file) that matched the filter.",
    )?;
    writeln!(out, "rdpscope_capture_packets_total {}", e.packets)?;
    head(
        out,
        "rdpscope_capture_dropped_packets_total",
        "counter",
        "Packets dropped before analysis, by who dropped them.",
    )?;
    for (by, n) in ["rdpscope", "kernel", "interface"].iter().zip(e.dropped.iter()) {
        writeln!(out, "rdpscope_capture_dropped_packets_total{{by=\"{by}\"}} {n}")?;
    }
    head(
        out,
        "rdpscope_output_write_errors_total",
        "counter",
        "Writes that failed: of the --write pcap, of records to stdout.",
    )?;
    for (o, n) in ["pcap", "stdout"].iter().zip(e.write_errors.iter()) {
        writeln!(out, "rdpscope_output_write_errors_total{{output=\"{o}\"}} {n}")?;
    }
    head(
        out,
        "rdpscope_brute_force_sources",
        "gauge",
        "Client addresses with an active brute_force or password_spray finding.",
    )?;
    writeln!(out, "rdpscope_brute_force_sources {}", e.brute_force_sources)?;
    if let Some(s) = &m.servers {
        let (top, other) = s.top();
        let series: [Series; 2] = [
            ("rdpscope_server_connections_total", "RDP connections", |c| c.0),
            ("rdpscope_server_failures_total", "Failed RDP connections", |c| c.1),
        ];
        for (name, what, pick) in series {
            let help = format!("{what} of the busiest servers (--metrics-servers); the rest as server=\"other\".");
            head(out, name, "counter", &help)?;
            for (ip, c) in &top {
                writeln!(out, "{name}{{server=\"{ip}\"}} {}", pick(c))?;
            }
            writeln!(out, "{name}{{server=\"other\"}} {}", pick(&other))?;
        }
    }
    head(
        out,
        "rdpscope_build_info",
        "gauge",
        "The rdpscope version, as a label; always 1.",
    )?;
    writeln!(out, "rdpscope_build_info{{version=\"{}\"}} 1", e.version)
}
