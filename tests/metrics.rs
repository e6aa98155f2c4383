//! The Prometheus exposition: `analyze --format prometheus` and `replay --metrics` pass
//! `promtool check metrics` and count what `analyze --format json` says of the same captures;
//! the endpoint answers only `GET /metrics`; and a real Prometheus server (Debian's
//! `prometheus`) scraping a replaying rdpscope on loopback stores the same counters.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const CAPTURES: &[&str] = &[
    "nla-wrong-password",
    "cert-expired-self-signed",
    "success-tls12",
    "tcp-port-closed",
    "neg-failure-ssl-required",
    "high-latency",
];

fn files() -> Vec<String> {
    CAPTURES
        .iter()
        .map(|f| {
            common::root()
                .join(format!("fixtures/lab/{f}.pcap"))
                .display()
                .to_string()
        })
        .collect()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rdpscope"))
}

/// `metric{labels} value` lines as a map (comments left out).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_string(), v.parse().unwrap())))
        .collect()
}

/// What the metrics must say, from `analyze --format json` of one capture file.
fn expected(file: &str) -> BTreeMap<String, f64> {
    let out = bin().args(["analyze", "--format", "json", file]).output().unwrap();
    let mut want = BTreeMap::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["type"] != "connection" {
            continue;
        }
        let outcome = v["outcome"].as_str().unwrap().to_string();
        *want
            .entry(format!("rdpscope_connections_total{{outcome=\"{outcome}\"}}"))
            .or_insert(0.0) += 1.0;
        let phase = v["phase_reached"].as_str().unwrap();
        *want
            .entry(format!("rdpscope_phase_reached_total{{phase=\"{phase}\"}}"))
            .or_insert(0.0) += 1.0;
        if outcome == "failed" {
            let cause = common::cause_code(&v);
            *want
                .entry(format!("rdpscope_failures_total{{cause=\"{cause}\"}}"))
                .or_insert(0.0) += 1.0;
        }
    }
    want
}

fn check_counts(got: &BTreeMap<String, f64>, want: &BTreeMap<String, f64>, ctx: &str) {
    assert!(!want.is_empty());
    for (k, v) in want {
        assert_eq!(got.get(k), Some(v), "{ctx}: {k}");
    }
    // And nothing counted that analyze did not say.
    let total: f64 = got
        .iter()
        .filter(|(k, _)| k.starts_with("rdpscope_connections_total"))
        .map(|(_, v)| v)
        .sum();
    let want_total: f64 = want
        .iter()
        .filter(|(k, _)| k.starts_with("rdpscope_connections_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(total, want_total, "{ctx}: connections in all");
}

fn promtool_ok(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn promtool(test: &str) -> bool {
    common::require(
        &format!("{test}: needs promtool and prometheus (apt-get install prometheus)"),
        common::has_tool("promtool", "--version"),
    )
}

#[test]
fn analyze_prometheus_passes_promtool_and_counts_the_verdicts() {
    if !promtool("metrics") {
        return;
    }
    let mut want = BTreeMap::new();
    for f in files() {
        for (k, v) in expected(&f) {
            *want.entry(k).or_insert(0.0) += v;
        }
    }
    let mut args = vec!["analyze".to_string(), "--format".into(), "prometheus".into()];
    args.extend(files());
    let out = bin().args(&args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    promtool_ok(&text);
    let got = samples(&text);
    check_counts(&got, &want, "analyze --format prometheus");
    assert_eq!(got["rdpscope_build_info{version=\"0.1.0\"}"], 1.0);
    assert_eq!(got["rdpscope_open_connections"], 0.0);
    // The histogram holds every handshake RTT: its count is the connections with one.
    assert!(got["rdpscope_handshake_rtt_seconds_count"] >= 1.0);
    assert_eq!(
        got["rdpscope_handshake_rtt_seconds_count"],
        got["rdpscope_handshake_rtt_seconds_bucket{le=\"+Inf\"}"]
    );
}

/// A replay serving metrics on a loopback port it chose; killed on drop.
struct Replay {
    child: Child,
    addr: String,
}

impl Drop for Replay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process ended when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_replay(file: &str, extra: &[&str]) -> Replay {
    let mut child = bin()
        .args(["replay", "--format", "json", "--metrics", "127.0.0.1:0"])
        .args(extra)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("rdpscope: metrics on http://")
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address: {first}"))
        .to_string();
    // Wait for the replay to end (its counts are then final and still served).
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Replay { child, addr }
}

fn try_http(addr: &str, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn http(addr: &str, request: &str) -> String {
    try_http(addr, request).unwrap()
}

fn scrape_until(addr: &str, want_connections: f64) -> String {
    let start = Instant::now();
    loop {
        let r = http(addr, "GET /metrics HTTP/1.1\r\nHost: rdpscope\r\n\r\n");
        let body = r.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        let total: f64 = samples(&body)
            .iter()
            .filter(|(k, _)| k.starts_with("rdpscope_connections_total"))
            .map(|(_, v)| v)
            .sum();
        if total >= want_connections {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the counts never reached {want_connections}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn replay_serves_the_same_counts_on_get_metrics_only() {
    if !promtool("metrics") {
        return;
    }
    let file = &files()[0];
    let want = expected(file);
    let r = start_replay(file, &["--fast"]);
    let n: f64 = want
        .iter()
        .filter(|(k, _)| k.starts_with("rdpscope_connections_total"))
        .map(|(_, v)| v)
        .sum();
    let resp = scrape_until(&r.addr, n);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
    promtool_ok(body);
    check_counts(&samples(body), &want, "replay --metrics");
    let frames = samples(body)["rdpscope_capture_packets_total"];
    assert!(frames > 0.0);
    assert!(http(&r.addr, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    assert!(http(&r.addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").starts_with("HTTP/1.1 405"));
    assert!(http(&r.addr, "\x16\x03\x01garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    // Still up after the bad requests.
    assert!(http(&r.addr, "GET /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200"));
}

/// A real Prometheus server scraping a replaying rdpscope on loopback: its HTTP API gives
/// the counters that `analyze` gives for the same capture.
#[test]
fn a_real_prometheus_scrapes_the_same_counters() {
    if !promtool("metrics")
        || !common::require("metrics: needs prometheus", common::has_tool("prometheus", "--version"))
    {
        return;
    }
    let file = files()[1].clone();
    let want = expected(&file);
    // Slowed down so Prometheus scrapes while connections are still coming in, too.
    let r = start_replay(&file, &["--speed", "0.5"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: rdpscope\n    static_configs:\n      - targets: ['{}']\n",
            r.addr
        ),
    )
    .unwrap();
    let web = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let prom = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prom = Killed(prom);
    let start = Instant::now();
    let mut last = String::new();
    let ok = loop {
        // Connection refused until Prometheus has started.
        let q = try_http(
            &web,
            "GET /api/v1/query?query=rdpscope_connections_total%20or%20rdpscope_failures_total%20or%20rdpscope_phase_reached_total HTTP/1.0\r\n\r\n",
        )
        .unwrap_or_default();
        last = q.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(last);
        let stored: BTreeMap<String, f64> = serde_json::from_str::<Value>(&last)
            .ok()
            .and_then(|v| v["data"]["result"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let m = &s["metric"];
                let name = m["__name__"].as_str().unwrap_or_default();
                let label = ["outcome", "cause", "phase"]
                    .iter()
                    .find_map(|l| m[*l].as_str().map(|v| format!("{{{l}=\"{v}\"}}")))
                    .unwrap_or_default();
                (
                    format!("{name}{label}"),
                    s["value"][1].as_str().unwrap_or("0").parse().unwrap_or(0.0),
                )
            })
            .collect();
        if want.iter().all(|(k, v)| stored.get(k) == Some(v)) {
            break true;
        }
        if start.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(ok, "Prometheus never stored {want:?}; last answer: {last}");
}
