//! RD Gateway verdicts on the lab's real captures (fixtures/lab/gateway-*.pcap): xfreerdp 2.11
//! `/g:` through the lab gateway (fixtures/lab/rdg.py, MS-TSGU HTTP transport) to xrdp, each
//! scenario refusing at one step. Analyzed as `--port 443 --keylog NAME.keys` would (the
//! tests' default for gateway-* captures): each scenario's finding code, the hop its summary
//! names, the MS-TSGU status name in the `gateway` object, and the inner connection linked
//! both ways (`gateway.inner` and `via_gateway.id`); the HTTP statuses against tshark's; and
//! without the key log, legs that are only HTTPS, never failed RDP connections.

use std::path::{Path, PathBuf};
use std::process::Command;

use rdpscope::config::Config;
use serde_json::Value;

mod common;

fn lab(name: &str) -> PathBuf {
    common::root().join("fixtures/lab").join(format!("{name}.pcap"))
}

fn conns(name: &str) -> Vec<Value> {
    common::analyze(&lab(name), &Config::default())
        .into_iter()
        .filter(|r| r["type"] == "connection")
        .collect()
}

fn cause(r: &Value) -> Option<(&str, &str)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "error")
        .map(|f| (f["code"].as_str().unwrap(), f["summary"].as_str().unwrap()))
}

/// The HTTPS legs (`gateway` object) and the RDP connections their tunnels carried.
fn split(rs: &[Value]) -> (Vec<&Value>, Vec<&Value>) {
    rs.iter().partition(|r| !r["gateway"].is_null())
}

#[test]
fn each_refusal_names_its_code_hop_and_status() {
    // scenario, finding, hop, where the status is in the gateway object, its name
    for (name, code, hop, step, status) in [
        (
            "gateway-nap-denied",
            "gateway_policy_denied",
            "gateway policy",
            "tunnel_auth",
            "E_PROXY_NAP_ACCESSDENIED",
        ),
        (
            "gateway-rap-denied",
            "gateway_policy_denied",
            "gateway policy",
            "channel",
            "E_PROXY_RAP_ACCESSDENIED",
        ),
        (
            "gateway-tunnel-refused",
            "gateway_refused",
            "client→gateway",
            "tunnel",
            "E_PROXY_MAXCONNECTIONSREACHED",
        ),
        (
            "gateway-capability-mismatch",
            "gateway_capability_mismatch",
            "client→gateway",
            "tunnel",
            "E_PROXY_CAPABILITYMISMATCH",
        ),
        (
            "gateway-target-unreachable",
            "gateway_target_unreachable",
            "gateway→server",
            "channel",
            "E_PROXY_TS_CONNECTFAILED",
        ),
    ] {
        let rs = conns(name);
        assert_eq!(rs.len(), 1, "{name}: one leg, no tunnel");
        let r = &rs[0];
        assert_eq!(r["outcome"], "failed", "{name}");
        assert_eq!(r["gateway"]["transport"], "websocket", "{name}");
        let (c, summary) = cause(r).unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(c, code, "{name}");
        assert!(summary.starts_with(&format!("{hop}: ")), "{name}: {summary}");
        assert!(summary.contains(status), "{name}: {summary}");
        assert_eq!(r["gateway"][step]["name"], status, "{name}");
        // The finding cites the response's frame.
        let f = &r["findings"][0]["frames"];
        assert_eq!(f[0], r["gateway"][step]["frame"], "{name}");
        // Every step before the refusal succeeded.
        for before in ["tunnel", "tunnel_auth", "channel"].iter().take_while(|s| **s != step) {
            assert_eq!(r["gateway"][before]["name"], "ERROR_SUCCESS", "{name}: {before}");
        }
        assert_eq!(r["gateway"]["inner"], serde_json::json!([]), "{name}");
    }
    // The unreachable target is the one CHANNEL_CREATE named.
    let r = &conns("gateway-target-unreachable")[0];
    assert_eq!(r["gateway"]["channel"]["target"]["host"], "10.99.0.1");
    assert_eq!(r["gateway"]["channel"]["target"]["port"], 3389);
    assert!(cause(r).unwrap().1.ends_with("to 10.99.0.1:3389"));
}

#[test]
fn http_refusals_after_ntlm_are_the_gateway_login() {
    for (name, code, status) in [
        ("gateway-auth-failed", "gateway_auth_failed", 401),
        ("gateway-forbidden", "gateway_forbidden", 403),
    ] {
        let rs = conns(name);
        assert_eq!(rs.len(), 1, "{name}");
        let r = &rs[0];
        let (c, summary) = cause(r).unwrap();
        assert_eq!(c, code, "{name}");
        assert!(summary.starts_with("gateway login: "), "{name}: {summary}");
        assert!(
            summary.contains("(last credentials sent: NTLM/ntlm)"),
            "{name}: {summary}"
        );
        let http = r["gateway"]["http"].as_array().unwrap();
        let statuses: Vec<u64> = http.iter().map(|h| h["status"].as_u64().unwrap()).collect();
        // The NTLM challenge, then the refusal of the AUTHENTICATE.
        assert_eq!(statuses, [401, status], "{name}");
        assert!(http.iter().all(|h| h["method"] == "RDG_OUT_DATA"));
        let auth = &r["gateway"]["auth"];
        assert_eq!(
            (&auth["mechanism"], &auth["user"], &auth["domain"]),
            (&Value::from("ntlm"), &Value::from("labuser"), &Value::from("RDPLAB")),
            "{name}"
        );
        assert!(r["gateway"]["tunnel"].is_null(), "{name}: no MS-TSGU after a refusal");
    }
}

#[test]
fn an_http_error_before_the_login_is_the_client_gateway_hop() {
    let rs = conns("gateway-http-503");
    assert_eq!(rs.len(), 1);
    let (c, summary) = cause(&rs[0]).unwrap();
    assert_eq!(c, "gateway_http_error");
    assert!(
        summary.starts_with("client→gateway: the gateway answered HTTP 503 Service Unavailable"),
        "{summary}"
    );
}

#[test]
fn a_websocket_tunnel_carries_the_rdp_session() {
    let rs = conns("gateway-success-websocket");
    let (legs, inner) = split(&rs);
    assert_eq!((legs.len(), inner.len()), (1, 1));
    let (leg, rdp) = (legs[0], inner[0]);
    assert_eq!(leg["outcome"], "success");
    assert_eq!(leg["gateway"]["transport"], "websocket");
    assert_eq!(leg["gateway"]["channel"]["name"], "ERROR_SUCCESS");
    assert_eq!(leg["gateway"]["inner"], serde_json::json!([rdp["id"]]));
    assert_eq!(rdp["transport"], "rdg");
    assert_eq!(rdp["via_gateway"]["id"], leg["id"]);
    assert_eq!(rdp["via_gateway"]["target"]["host"], "10.99.0.1");
    assert_eq!(rdp["outcome"], "success");
    // Read inside the tunnel: xrdp's own TLS, the Client Info and the licensing.
    assert_eq!(rdp["negotiation"]["selected"], "ssl");
    assert_eq!(rdp["session"]["user"], "labuser");
    assert_eq!(rdp["session"]["client"]["name"], "rdplab-client");
}

#[test]
fn the_legacy_transport_is_one_tunnel_over_two_legs() {
    let rs = conns("gateway-success-legacy");
    let (legs, inner) = split(&rs);
    assert_eq!((legs.len(), inner.len()), (2, 1));
    let out = legs
        .iter()
        .find(|l| l["gateway"]["legacy"]["channel"] == "out")
        .unwrap();
    let inn = legs.iter().find(|l| l["gateway"]["legacy"]["channel"] == "in").unwrap();
    assert_eq!(out["gateway"]["legacy"]["partner"], inn["id"]);
    assert_eq!(inn["gateway"]["legacy"]["partner"], out["id"]);
    for l in [out, inn] {
        assert_eq!(l["gateway"]["transport"], "http");
        assert_eq!(l["outcome"], "success", "{}", l["id"]);
        assert_eq!(l["gateway"]["channel"]["name"], "ERROR_SUCCESS");
    }
    // The OUT channel reads both directions and carries the RDP connection.
    assert_eq!(out["gateway"]["inner"], serde_json::json!([inner[0]["id"]]));
    assert_eq!(inner[0]["via_gateway"]["id"], out["id"]);
    assert_eq!(inner[0]["outcome"], "success");
    assert_eq!(inner[0]["session"]["user"], "labuser");

    let rs = conns("gateway-legacy-target-unreachable");
    assert_eq!(rs.len(), 2);
    for l in &rs {
        let (c, summary) = cause(l).unwrap();
        assert_eq!(c, "gateway_target_unreachable", "{}", l["id"]);
        assert!(summary.starts_with("gateway→server: CHANNEL_RESPONSE E_PROXY_TS_CONNECTFAILED to 10.99.0.1:3389"));
    }
}

#[test]
fn a_session_timeout_ends_the_leg_and_its_rdp_connection() {
    let rs = conns("gateway-session-timeout");
    let (legs, inner) = split(&rs);
    assert_eq!((legs.len(), inner.len()), (1, 1));
    let (leg, rdp) = (legs[0], inner[0]);
    let (c, summary) = cause(leg).unwrap();
    assert_eq!(c, "gateway_session_timeout");
    assert!(summary.contains("E_PROXY_SESSIONTIMEOUT"), "{summary}");
    assert_eq!(leg["gateway"]["inner"], serde_json::json!([rdp["id"]]));
    assert_eq!(rdp["via_gateway"]["id"], leg["id"]);
    // The inner connection's end is the gateway's CLOSE_CHANNEL, not its RDP server.
    let (c, summary) = cause(rdp).unwrap();
    assert_eq!(c, "gateway_session_timeout");
    assert!(
        summary.contains(&format!("CLOSE_CHANNEL E_PROXY_SESSIONTIMEOUT on leg #{}", leg["id"])),
        "{summary}"
    );
    assert_eq!(leg["findings"][0]["frames"], rdp["findings"][0]["frames"]);
}

#[test]
fn the_first_hop_failures() {
    let r = &conns("gateway-tcp-refused")[0];
    assert_eq!(cause(r).unwrap().0, "gateway_unreachable");
    // FreeRDP closes after the TLS 1.2 handshake (an encrypted alert) without sending any
    // HTTP: it refused the expired certificate, which travelled in clear.
    let r = &conns("gateway-cert-expired")[0];
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["cert_expired", "cert_rejected_by_client"]);
}

/// HTTP response codes of a capture, in order, by tshark with the key log.
fn tshark_codes(pcap: &Path) -> Vec<u64> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", pcap.with_extension("keys").display()))
        .args(["-Y", "http.response", "-T", "fields", "-e", "http.response.code"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn http_statuses_match_tshark() {
    if !common::tshark("gateway_lab::http_statuses_match_tshark") {
        return;
    }
    for name in [
        "gateway-success-websocket",
        "gateway-auth-failed",
        "gateway-forbidden",
        "gateway-nap-denied",
        "gateway-target-unreachable",
        "gateway-session-timeout",
        "gateway-http-503",
    ] {
        let ours: Vec<u64> = conns(name)
            .iter()
            .flat_map(|r| r["gateway"]["http"].as_array().cloned().unwrap_or_default())
            .filter_map(|h| h["status"].as_u64())
            .collect();
        assert_eq!(ours, tshark_codes(&lab(name)), "{name}");
    }
}

#[test]
fn without_the_key_log_the_legs_are_only_https() {
    for name in [
        "gateway-success-websocket",
        "gateway-nap-denied",
        "gateway-session-timeout",
        "gateway-http-503",
    ] {
        let mut cfg = Config::default();
        cfg.server_ports.push(443);
        let pcap = lab(name);
        let res = rdpscope::pipeline::analyze_file(
            &pcap,
            &rdpscope::capture::Filter::Ports(cfg.server_ports.clone()),
            &cfg,
            1,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(res.records.len(), 1, "{name}: the tunnel is not read");
        let r = serde_json::to_value(&res.records[0]).unwrap();
        assert_ne!(r["outcome"], "failed", "{name}");
        assert!(
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "https_unread"),
            "{name}"
        );
    }
}
