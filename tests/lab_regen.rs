//! Proves the lab still works: regenerates a few quick scenarios from scratch with real
//! servers and clients (fixtures/lab/lab.sh, as root, in network namespaces) and checks
//! that the pipeline gives the same verdict as for the committed capture.
//!
//! In CI (`CI` set) this must run: without root, or if the lab fails, the test fails
//! loudly. Outside CI it needs root too; without root it prints a loud notice instead.

mod common;

use std::process::Command;

use rdpscope::config::Config;
use serde_json::Value;

/// Quick scenarios that cover a listener, xrdp with xfreerdp, the TCP layer, and the lab
/// RD Gateway (rdg.py) with xfreerdp's gateway client (its verdict is read with the key log
/// the lab writes next to the capture).
const SCENARIOS: &[&str] = &[
    "tcp-port-closed",
    "reset-after-x224",
    "neg-failure-cert-not-on-server",
    "tls-version-server-new-client-old",
    "gateway-nap-denied",
];

/// What must not change between two runs of a scenario.
fn verdict(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            serde_json::json!({
                "outcome": r["outcome"],
                "phase": r["phase_reached"],
                "cause": r["findings"].as_array().and_then(|f| f.iter().find(|f| f["severity"] == "error")).map(|f| f["code"].clone()),
                "requested": r["negotiation"]["requested"],
                "selected": r["negotiation"]["selected"],
                "failure": r["negotiation"]["failure"],
                "tls_version": r["tls"]["version"],
                "alerts": r["tls"]["alerts"].as_array().map(|a| a.iter().map(|a| (a["from"].clone(), a["description"].clone())).collect::<Vec<_>>()),
            })
        })
        .collect()
}

#[test]
fn quick_lab_scenarios_regenerate_with_the_same_verdict() {
    if !common::require(
        "lab_regen: needs root (network namespaces, servers, tcpdump); run `sudo -E cargo test --test lab_regen`",
        common::is_root(),
    ) {
        return;
    }
    // The lab installs its RDP peers with apt-get (README): RDPSCOPE_SKIP_LAB=1 opts out.
    if !common::require(
        "lab_regen: skipped by RDPSCOPE_SKIP_LAB (it installs the lab's Debian packages); run it with `sudo -E cargo test --test lab_regen`",
        std::env::var_os("RDPSCOPE_SKIP_LAB").is_none(),
    ) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let lab = common::root().join("fixtures/lab/lab.sh");
    let status = Command::new("bash")
        .arg(&lab)
        .args(SCENARIOS)
        .env("RDPLAB_OUT", out.path())
        .status()
        .expect("run fixtures/lab/lab.sh");
    assert!(
        status.success(),
        "fixtures/lab/lab.sh failed ({status}); see its log above"
    );
    let cfg = Config::default();
    for name in SCENARIOS {
        let fresh = out.path().join(format!("{name}.pcap"));
        assert!(fresh.exists(), "the lab did not write {}", fresh.display());
        let committed = common::root().join(format!("fixtures/lab/{name}.pcap"));
        let want = verdict(&common::analyze(&committed, &cfg));
        let got = verdict(&common::analyze(&fresh, &cfg));
        assert_eq!(got, want, "{name}: regenerated capture gives a different verdict");
    }
}
