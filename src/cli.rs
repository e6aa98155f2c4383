//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rdpscope::capture;
use rdpscope::config::Config;

/// Explain why Remote Desktop (RDP) connections fail, from the packets.
#[derive(Parser, Debug)]
#[command(name = "rdpscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze capture files (pcap or pcapng) and report every RDP connection.
    ///
    /// Exit code: 0 no failed connection, 1 at least one failed, 2 usage or input error.
    Analyze(AnalyzeArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A readable report per connection, then a summary.
    Text,
    /// JSON lines: one object per connection (docs/json.md), then a summary object.
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Connections whose outcome is failed.
    Failed,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also treat this TCP/UDP port as an RDP server port (repeatable; 3389 always is).
    #[arg(long = "port", value_name = "N")]
    pub ports: Vec<u16>,
    /// Replace the capture filter (BPF syntax). Use --port too if the server port is not 3389.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Print only these connections: `failed` (the summary still counts all).
    #[arg(long, value_enum, value_name = "WHICH")]
    pub only: Option<Only>,
    /// Write a pcap per failed connection (its own packets only) into DIR, named ID-CAUSE.pcap.
    #[arg(long, value_name = "DIR")]
    pub write_evidence: Option<PathBuf>,
    /// Leave the per-connection timeline out of the text report.
    #[arg(long)]
    pub no_timeline: bool,
    /// Most TCP connections tracked at once; beyond it the least recently active are evicted.
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,
    /// Most bytes all connections together may buffer, in MiB (default 512; docs/limits.md).
    #[arg(long, value_name = "MIB")]
    pub max_buffer_mb: Option<usize>,
    /// Handshake or median RTT (ms) above which latency is reported.
    #[arg(long, value_name = "MS")]
    pub high_latency_ms: Option<f64>,
}

impl AnalyzeArgs {
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        for p in &self.ports {
            if !c.server_ports.contains(p) {
                c.server_ports.push(*p);
            }
        }
        if let Some(n) = self.max_flows {
            c.max_flows = n;
        }
        if let Some(mb) = self.max_buffer_mb {
            c.max_total_buffered = mb.saturating_mul(1024 * 1024);
        }
        if let Some(ms) = self.high_latency_ms {
            c.high_latency_ms = ms;
        }
        c
    }

    pub fn filter(&self) -> capture::Filter {
        match &self.filter {
            Some(e) => capture::Filter::Bpf(e.clone()),
            None => capture::Filter::Ports(self.config().server_ports),
        }
    }
}
