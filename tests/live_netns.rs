//! Live capture for real: a veth pair between two network namespaces made for this test,
//! `rdpscope live --format json` on one end, lab captures replayed onto the other with
//! tcpreplay (original timing), and the verdicts compared with `analyze` on the same
//! files. Needs root and tcpreplay: in CI their absence is a failure, elsewhere a loud
//! notice. No packet leaves the two namespaces.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdpscope::config::Config;
use serde_json::Value;

const FIXTURES: &[&str] = &[
    "tcp-port-closed",
    "reset-after-x224",
    "tls-no-shared-cipher",
    "cert-expired-ca-trusted",
    "nla-wrong-password",
    "server-killed-mid-session",
    "success-tls12",
];

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Namespaces and the capture process, removed whatever happens to the test.
struct Lab {
    a: String,
    b: String,
    child: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        run(&["ip", "netns", "del", &self.a]);
        run(&["ip", "netns", "del", &self.b]);
    }
}

fn verdict(r: &Value) -> Value {
    serde_json::json!({
        "client_port": r["client"]["port"],
        "outcome": r["outcome"],
        "phase": r["phase_reached"],
        "codes": r["findings"].as_array().map(|f| f.iter().map(|f| f["code"].clone()).collect::<Vec<_>>()),
        "requested": r["negotiation"]["requested"],
        "selected": r["negotiation"]["selected"],
        "failure": r["negotiation"]["failure"],
        "tls_version": r["tls"]["version"],
        "alerts": r["tls"]["alerts"].as_array().map(|a| a.iter().map(|a| (a["from"].clone(), a["description"].clone())).collect::<Vec<_>>()),
    })
}

/// Two namespaces joined by a veth pair (`va` in `a`, `vb` in `b`), or None (with the
/// SKIPPED line, a failure under CI) when root or one of `tools` is missing.
fn make_lab(test: &str, tag: &str, tools: &[(&str, &str, &str)]) -> Option<Lab> {
    let mut missing: Vec<String> = Vec::new();
    if !common::is_root() {
        missing.push("root (network namespaces)".into());
    }
    for (tool, arg, what) in tools {
        if !common::has_tool(tool, arg) {
            missing.push((*what).to_string());
        }
    }
    if !common::require(
        &format!(
            "{test}: needs {}; run `sudo -E cargo test --test live_netns`",
            missing.join(" and ")
        ),
        missing.is_empty(),
    ) {
        return None;
    }
    let id = std::process::id();
    let lab = Lab {
        a: format!("rdps-{tag}-a-{id}"),
        b: format!("rdps-{tag}-b-{id}"),
        child: None,
    };
    let (a, b) = (lab.a.clone(), lab.b.clone());
    for ns in [&a, &b] {
        assert!(run(&["ip", "netns", "add", ns]), "setup failed: netns add {ns}");
        // No IPv6 chatter (router/neighbour solicitations) in the capture.
        for key in ["all", "default"] {
            let knob = format!("net.ipv6.conf.{key}.disable_ipv6=1");
            assert!(
                run(&["ip", "netns", "exec", ns, "sysctl", "-qw", &knob]),
                "setup failed: {knob} in {ns}"
            );
        }
    }
    for cmd in [
        vec![
            "ip", "-n", &a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b,
        ],
        vec!["ip", "-n", &a, "link", "set", "va", "up"],
        vec!["ip", "-n", &b, "link", "set", "vb", "up"],
        vec!["ip", "-n", &a, "link", "set", "lo", "up"],
    ] {
        assert!(run(&cmd), "setup failed: {}", cmd.join(" "));
    }
    Some(lab)
}

const TCPREPLAY: (&str, &str, &str) = ("tcpreplay", "-V", "tcpreplay (apt-get install tcpreplay)");

#[test]
fn live_capture_on_veth_gives_the_offline_verdicts() {
    let Some(mut lab) = make_lab("live_netns", "live", &[TCPREPLAY]) else {
        return;
    };
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let out_dir = tempfile::tempdir().unwrap();
    let saved = out_dir.path().join("live.pcap");
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &a,
            env!("CARGO_BIN_EXE_rdpscope"),
            "live",
            "-i",
            "va",
            "--format",
            "json",
            "--write",
        ])
        .arg(&saved)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdpscope live");
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    lab.child = Some(child);
    let mut err_lines = BufReader::new(stderr).lines();
    let ready = err_lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        ready.contains("capturing on va"),
        "rdpscope live did not start: {ready}"
    );

    // The capabilities are gone once the capture is open.
    let pid = lab.child.as_ref().map(|c| c.id()).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let cap_eff = status
        .lines()
        .find(|l| l.starts_with("CapEff:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        cap_eff.ends_with("0000000000000000"),
        "capabilities still held: {cap_eff}"
    );

    replay_lab(&b, FIXTURES);
    std::thread::sleep(Duration::from_millis(500));

    // Ctrl-C: the capture stops and every connection still open is finished and printed.
    let pid = lab.child.as_ref().map(|c| c.id().to_string()).unwrap();
    assert!(run(&["pkill", "-INT", "-P", &pid]) || run(&["kill", "-INT", &pid]));
    let start = Instant::now();
    let mut live: Vec<Value> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["type"] == "connection" {
            live.push(v);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "rdpscope live did not finish"
        );
    }

    let cfg = Config::default();
    let mut offline: Vec<Value> = Vec::new();
    for f in FIXTURES {
        offline.extend(common::analyze(
            &common::root().join(format!("fixtures/lab/{f}.pcap")),
            &cfg,
        ));
    }
    let mut want: Vec<Value> = offline.iter().map(verdict).collect();
    let mut got: Vec<Value> = live.iter().map(verdict).collect();
    let key = |v: &Value| v["client_port"].as_u64().unwrap_or(0);
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(
        got.len(),
        want.len(),
        "live saw {} connections, offline {}",
        got.len(),
        want.len()
    );
    assert_eq!(got, want);

    // --write kept every captured packet: analysing the saved file tells the same story.
    let mut again: Vec<Value> = common::analyze(&saved, &cfg).iter().map(verdict).collect();
    again.sort_by_key(key);
    assert_eq!(again, want, "the --write capture differs");
}

/// Replays the lab captures `names` with tcpreplay onto `vb` in namespace `b`.
fn replay_lab(b: &str, names: &[&str]) {
    let files: Vec<String> = names
        .iter()
        .map(|f| {
            common::root()
                .join(format!("fixtures/lab/{f}.pcap"))
                .display()
                .to_string()
        })
        .collect();
    let mut replay = vec!["ip", "netns", "exec", b, "tcpreplay", "-q", "-i", "vb"];
    replay.extend(files.iter().map(String::as_str));
    assert!(run(&replay), "tcpreplay failed");
}

/// An HTTP GET inside namespace `ns` (bash's /dev/tcp: the namespace's loopback is not the
/// test's); the body, or "" while nothing listens. The path is printf's argument, not its
/// format: `%20` in a query would be a conversion.
fn get_in(ns: &str, port: u16, path: &str) -> String {
    let script =
        format!("exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET %s HTTP/1.0\\r\\n\\r\\n' '{path}' >&3 && cat <&3");
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "bash", "-c", &script])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// The proof: a real Prometheus server, in the namespace of a live rdpscope, scrapes
/// it while lab captures are replayed onto the wire; its HTTP API then answers the counts
/// that `analyze` gives for the same captures.
#[test]
fn prometheus_scraping_live_stores_the_offline_verdicts() {
    const CLOSING: &[&str] = &[
        "tcp-port-closed",
        "reset-after-x224",
        "tls-no-shared-cipher",
        "nla-wrong-password",
    ];
    let prom = ("prometheus", "--version", "prometheus (apt-get install prometheus)");
    let Some(mut lab) = make_lab("live_netns prometheus", "prom", &[TCPREPLAY, prom]) else {
        return;
    };
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let child = Command::new("ip")
        .args(["netns", "exec", &a, env!("CARGO_BIN_EXE_rdpscope"), "live", "-i", "va"])
        .args(["--format", "ecs", "--metrics", "127.0.0.1:9839"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rdpscope live");
    lab.child = Some(child);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: rdpscope\n    static_configs:\n      - targets: ['127.0.0.1:9839']\n",
    )
    .unwrap();
    let mut prometheus = Command::new("ip")
        .args(["netns", "exec", &a, "prometheus"])
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg("--web.listen-address=127.0.0.1:9090")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    // The verdicts analyze gives, as Prometheus series.
    let mut want: std::collections::BTreeMap<String, u64> = Default::default();
    for f in CLOSING {
        for r in common::analyze(
            &common::root().join(format!("fixtures/lab/{f}.pcap")),
            &Config::default(),
        ) {
            let outcome = r["outcome"].as_str().unwrap();
            *want
                .entry(format!("rdpscope_connections_total/outcome={outcome}"))
                .or_default() += 1;
            if outcome == "failed" {
                let cause = common::cause_code(&r);
                *want
                    .entry(format!("rdpscope_failures_total/cause={cause}"))
                    .or_default() += 1;
            }
        }
    }
    replay_lab(&b, CLOSING);
    let start = Instant::now();
    let mut stored = std::collections::BTreeMap::new();
    while start.elapsed() < Duration::from_secs(60) {
        let body = get_in(
            &a,
            9090,
            "/api/v1/query?query=rdpscope_connections_total%20or%20rdpscope_failures_total",
        );
        stored = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["data"]["result"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let m = &s["metric"];
                let label = ["outcome", "cause"]
                    .iter()
                    .find_map(|l| m[*l].as_str().map(|v| format!("{l}={v}")))
                    .unwrap_or_default();
                let v: u64 = s["value"][1].as_str().unwrap_or("0").parse().unwrap_or(0);
                (format!("{}/{label}", m["__name__"].as_str().unwrap_or_default()), v)
            })
            .filter(|(_, v)| *v > 0)
            .collect();
        if stored == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert_eq!(stored, want, "Prometheus's counters differ from analyze's verdicts");
}
