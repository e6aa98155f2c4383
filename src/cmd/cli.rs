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
    /// Capture on an interface and watch connections succeed or fail as they happen (TUI),
    /// or print one JSON line per connection as it ends (--format json).
    ///
    /// Needs root or the capabilities cap_net_raw,cap_net_admin (see README); they are
    /// dropped as soon as the capture is open. rdpscope never transmits a packet.
    Live(LiveArgs),
    /// Feed a capture file through the live pipeline and TUI with its original timing.
    Replay(ReplayArgs),
    /// List the interfaces rdpscope can capture on.
    Interfaces,
    /// Print a shell completion script, e.g. `rdpscope completions bash >
    /// /etc/bash_completion.d/rdpscope` (zsh: into a directory of $fpath as `_rdpscope`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `rdpscope man | man -l -`; with --dir, write one
    /// page per command (rdpscope.1, rdpscope-analyze.1, ...) into DIR.
    Man {
        /// Write every page into this directory instead of printing rdpscope.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A readable report per connection, then a summary.
    Text,
    /// JSON lines: one object per connection (docs/json.md), then a summary object.
    Json,
    /// Elastic Common Schema: one document per connection, one line each (docs/fleet.md).
    Ecs,
    /// OCSF 1.7.0 RDP Activity (class 4005): one event per connection, one line each.
    Ocsf,
    /// Prometheus text exposition of the run's metrics, once at the end (docs/fleet.md).
    Prometheus,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFormat {
    /// The interactive terminal UI.
    Tui,
    /// JSON lines, one per connection as it ends (headless: systemd services, log shippers).
    Json,
    /// Elastic Common Schema documents, one line per connection as it ends (headless).
    Ecs,
    /// OCSF 1.7.0 RDP Activity events, one line per connection as it ends (headless).
    Ocsf,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupByArg {
    /// One line per server address.
    Server,
    /// One line per client address.
    Client,
    /// One line per cause (finding code) of failure.
    Cause,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Connections whose outcome is failed.
    Failed,
}

/// Fewest connections tracked at once: the table evicts a tenth of itself when full, so fewer
/// than this would evict connections one packet after they start (docs/limits.md).
pub const MIN_FLOWS: usize = 100;
/// Fewest bytes buffered over all connections: one connection's stream buffers (128 KiB each
/// way) must fit, or connections are evicted mid-handshake and get false verdicts.
pub const MIN_BUFFERED: usize = 1 << 20;

/// A whole number in `lo..=hi`, else a usage error naming the range.
fn in_range<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |s: &str| {
        let v: T = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
        if v < lo || v > hi {
            return Err(format!("{v} is out of range: {lo} to {hi}"));
        }
        Ok(v)
    }
}

/// A finite number in `lo..=hi` (not NaN, not infinite), else a usage error.
fn finite_in(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        let v: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number"))?;
        if !v.is_finite() || v < lo || v > hi {
            return Err(format!("{s} is out of range: {lo} to {hi}"));
        }
        Ok(v)
    }
}

/// What to look at and how to judge it; shared by analyze, live and replay.
#[derive(Args, Debug, Clone)]
pub struct AnalysisArgs {
    /// Also treat this TCP/UDP port as an RDP server port, a SOCKS/HTTP proxy's port that RDP
    /// goes through, or an RD Gateway's HTTPS port (443) (repeatable; 3389 always is).
    ///
    /// [default: 3389 only]
    #[arg(long = "port", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub ports: Vec<u16>,
    /// Replace the capture filter (BPF syntax). Use --port too if the server port is not 3389.
    ///
    /// [default: TCP and UDP on the RDP ports (3389 and --port) and 88 (Kerberos), VLAN-tagged or not]
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Most TCP connections tracked at once; beyond it the least recently active are evicted.
    #[arg(long, value_name = "N", default_value = "100000", value_parser = in_range::<usize>(MIN_FLOWS, 100_000_000))]
    pub max_flows: Option<usize>,
    /// Threads: 1 reads and analyzes on one thread, 2 reads on a second one meanwhile.
    /// Results are the same.
    ///
    /// [default: 2 on a machine with two cores or more, else 1]
    #[arg(long, value_name = "N", value_parser = in_range::<usize>(1, 2))]
    pub threads: Option<usize>,
    /// Most bytes buffered for reassembly over all connections (67108864 = 64 MiB); beyond
    /// it the least recently active connections holding bytes are evicted.
    #[arg(long, value_name = "BYTES", default_value = "67108864", value_parser = in_range::<usize>(MIN_BUFFERED, 1 << 40))]
    pub max_buffered_bytes: Option<usize>,
    /// Handshake or median RTT (ms) above which latency is reported.
    #[arg(long, value_name = "MS", default_value = "150", value_parser = finite_in(0.1, 600_000.0))]
    pub high_latency_ms: Option<f64>,
    /// Replace user names, client names, certificate subjects and SNI with a keyed hash in
    /// every output. The key comes from --redact-key, else $RDPSCOPE_REDACT_KEY, else it is
    /// random for this run. Packets written to pcaps are not altered.
    ///
    /// [default: off: names are shown]
    #[arg(long)]
    pub redact: bool,
    /// File holding the key for --redact (the same key gives the same hashes across runs).
    ///
    /// [default: $RDPSCOPE_REDACT_KEY, else a random key for this run]
    #[arg(long, value_name = "FILE", requires = "redact")]
    pub redact_key: Option<PathBuf>,
    /// TLS key log (NSS format, as SSLKEYLOGFILE or FreeRDP /tls:secrets-file: write it):
    /// the connections it has keys for are decrypted, and CredSSP and the RDP connection
    /// sequence are read inside TLS (repeatable). Keys a pcapng capture carries in its
    /// Decryption Secrets Blocks are used without this. Keys never appear in any output.
    ///
    /// [default: none; a pcapng's own secrets are still used]
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylogs: Vec<PathBuf>,
    /// The RDP server's certificate private key (RSA; PEM or DER, PKCS#1 or PKCS#8): sessions
    /// with an RSA key exchange (TLS_RSA_WITH_*, as Windows servers still negotiate) are
    /// decrypted without a key log (repeatable). ECDHE sessions cannot be: they need a key
    /// log. The key never appears in any output.
    ///
    /// [default: none]
    #[arg(long = "server-key", value_name = "FILE")]
    pub server_keys: Vec<PathBuf>,
    /// Failed NLA, logon or negotiation attempts from one client address within
    /// --attack-window that are reported as a brute force.
    ///
    /// [default: 20]
    #[arg(long, value_name = "N", value_parser = in_range::<usize>(2, 1_000_000))]
    pub brute_force: Option<usize>,
    /// Distinct user names failing from one client address within --attack-window that are
    /// reported as password spraying.
    ///
    /// [default: 10]
    #[arg(long, value_name = "N", value_parser = in_range::<usize>(2, 10_000))]
    pub spray_users: Option<usize>,
    /// The window of --brute-force and --spray-users, in seconds of capture time.
    ///
    /// [default: 300]
    #[arg(long, value_name = "SECS", value_parser = in_range::<u32>(1, 604_800))]
    pub attack_window: Option<u32>,
}

impl AnalysisArgs {
    /// The redactor for --redact, or None. A random key is announced on stderr.
    pub fn redactor(&self) -> anyhow::Result<Option<rdpscope::record::redact::Redactor>> {
        use anyhow::Context;
        if !self.redact {
            return Ok(None);
        }
        if let Some(path) = &self.redact_key {
            let key =
                std::fs::read(path).with_context(|| format!("{}: cannot read the redaction key", path.display()))?;
            return Ok(Some(rdpscope::record::redact::Redactor::new(key)));
        }
        let (r, from_env) = rdpscope::record::redact::Redactor::from_env_or_random()?;
        if !from_env {
            eprintln!("rdpscope: --redact without --redact-key or RDPSCOPE_REDACT_KEY: hashes are stable within this run only");
        }
        Ok(Some(r))
    }

    /// Check the key log files once: unreadable is an error; lines that are not key log
    /// lines are counted and said once.
    pub fn check_keylogs(&self) -> anyhow::Result<()> {
        rdpscope::capture::keys::read_server_keys(&self.server_keys).map_err(anyhow::Error::msg)?;
        for p in &self.keylogs {
            let k = rdpscope::capture::keys::read_keylogs(std::slice::from_ref(p)).map_err(anyhow::Error::msg)?;
            let st = k.stats();
            if st.bad > 0 {
                eprintln!(
                    "rdpscope: {}: {} of {} lines are not key log lines (ignored)",
                    p.display(),
                    st.bad,
                    st.lines
                );
            }
            if k.is_empty() {
                eprintln!(
                    "rdpscope: {}: no usable key (expected CLIENT_RANDOM or *_TRAFFIC_SECRET lines)",
                    p.display()
                );
            }
        }
        Ok(())
    }

    pub fn config(&self) -> Config {
        let mut c = Config::default();
        c.keylogs.clone_from(&self.keylogs);
        c.server_keys.clone_from(&self.server_keys);
        for p in &self.ports {
            if !c.server_ports.contains(p) {
                c.server_ports.push(*p);
            }
        }
        if let Some(n) = self.max_flows {
            c.max_flows = n;
        }
        if let Some(t) = self.threads {
            c.threads = t.max(1);
        }
        if let Some(b) = self.max_buffered_bytes {
            c.max_buffered_bytes = b;
        }
        if let Some(ms) = self.high_latency_ms {
            c.high_latency_ms = ms;
        }
        if let Some(n) = self.brute_force {
            c.brute_force_attempts = n;
        }
        if let Some(n) = self.spray_users {
            c.spray_users = n;
        }
        if let Some(s) = self.attack_window {
            c.attack_window_secs = s;
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

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files to read: pcap or pcapng, also gzip- or zstd-compressed (told by their
    /// content); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Print only these connections: `failed` (the summary still counts all).
    ///
    /// [default: every connection]
    #[arg(long, value_enum, value_name = "WHICH")]
    pub only: Option<Only>,
    /// Write a pcap per failed connection (its own packets only) into DIR, named
    /// CAPTURE-START-ID-CAUSE.pcap (the capture's name, the connection's start time in UTC
    /// from the packets), or .pcapng carrying its own TLS keys (only those) when they are
    /// known. Where they went is said on stderr.
    ///
    /// [default: none written]
    #[arg(long, value_name = "DIR")]
    pub write_evidence: Option<PathBuf>,
    /// Leave the per-connection timeline out of the text report.
    ///
    /// [default: the timeline is printed]
    #[arg(long)]
    pub no_timeline: bool,
    /// Rows in each rollup of the summary (failures by server, by cause and server, clients,
    /// user names), retry stories shown, and groups of --group-by.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = in_range::<usize>(1, 1000))]
    pub top: usize,
    /// Instead of a report per connection, one line per server, client or cause (text),
    /// the N (--top) with the most connections; with --only failed, failed ones only.
    ///
    /// [default: a report per connection]
    #[arg(long, value_enum, value_name = "BY")]
    pub group_by: Option<GroupByArg>,
}

/// The Prometheus endpoint of `live` and `replay`.
#[derive(Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics (e.g. 127.0.0.1:9839); nothing
    /// else is served on that port. No address or user name is a label unless
    /// --metrics-servers is given.
    ///
    /// [default: no metrics served]
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Add per-server counters with a `server` label for the N busiest servers (the rest are
    /// summed as server="other"); 0, the default, leaves server addresses out of the metrics.
    #[arg(long = "metrics-servers", value_name = "N", default_value_t = 0, value_parser = in_range::<usize>(0, 1000))]
    pub servers: usize,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The interface to capture on (`rdpscope interfaces` lists them).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: String,
    #[arg(long, value_enum, default_value_t = LiveFormat::Tui)]
    pub format: LiveFormat,
    /// Also save every captured packet to this pcap file.
    ///
    /// [default: nothing saved]
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Started as root: switch to this unprivileged user once the capture is open.
    ///
    /// [default: stay the same user, with every capability dropped]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The capture file to replay: pcap or pcapng, also gzip- or zstd-compressed; `-` reads
    /// standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Play at this multiple of the original speed (gaps longer than 5 s are shortened to 5 s).
    #[arg(long, value_name = "X", default_value_t = 1.0, conflicts_with = "fast", value_parser = finite_in(0.001, 100_000.0))]
    pub speed: f64,
    /// As fast as possible.
    ///
    /// [default: off: at --speed]
    #[arg(long)]
    pub fast: bool,
    #[arg(long, value_enum, default_value_t = LiveFormat::Tui)]
    pub format: LiveFormat,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}
