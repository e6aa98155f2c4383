//! RD Gateway legs on the real Windows captures of `../shared/corpus/keyed/` (their TLS
//! secrets are in a pcapng DSB): the HTTP exchanges, the login, the MS-TSGU steps, the KDC
//! proxy's Kerberos, and the inner RDP connection, checked field by field; the HTTP status
//! lines and ALPN against tshark's own dissection; and the same captures with their
//! secrets removed (editcap), where the legs must be recognised as HTTPS and never called
//! failed RDP connections. Without the shared folder or tshark the test says why and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use rdpscope::config::Config;
use serde_json::Value;

mod common;

const KERBEROS: &str = "awakecoding-wireshark-rdp__rdp-rdg-same-creds-kerberos-password-success1.pcapng";
const NTLM: &str = "awakecoding-wireshark-rdp__rdp-rdg-no-kdc-proxy-ntlm-downgrade-success.pcapng";

fn keyed(test: &str, name: &str) -> Option<PathBuf> {
    let dir = common::keyed_corpus(test)?;
    common::tshark(test).then(|| dir.join(name))
}

fn cfg443() -> Config {
    let mut c = Config::default();
    c.server_ports.push(443);
    c
}

fn conns(path: &Path) -> Vec<Value> {
    common::analyze(path, &cfg443())
        .into_iter()
        .filter(|r| r["type"] == "connection")
        .collect()
}

fn codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// `(frame, status, reason)` of each HTTP/1.1 response tshark decodes.
fn tshark_http(path: &Path) -> Vec<(u64, u64, String)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "http.response",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "http.response.code",
            "-e",
            "http.response.phrase",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

/// `(frame, status, reason)` of each HTTP response in our records.
fn our_http(rs: &[Value]) -> Vec<(u64, u64, String)> {
    let mut v = Vec::new();
    for r in rs {
        for h in r["gateway"]["http"].as_array().into_iter().flatten() {
            if let Some(s) = h["status"].as_u64() {
                // The response's frame is the next HTTP answer after the request's frame.
                v.push((
                    h["frame"].as_u64().unwrap(),
                    s,
                    h["reason"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    v
}

/// The server's ALPN choice per TCP stream's server port 443, from tshark.
fn tshark_alpn(path: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "tls.handshake.type == 2",
            "-T",
            "fields",
            "-e",
            "tls.handshake.extensions_alpn_str",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn kerberos_gateway_login_and_kdc_proxy() {
    let Some(path) = keyed("kerberos_gateway_login_and_kdc_proxy", KERBEROS) else {
        return;
    };
    let rs = conns(&path);
    assert_eq!(rs.len(), 3);
    let leg = &rs[0];
    let g = &leg["gateway"];
    assert_eq!(g["role"], "gateway");
    assert_eq!(g["transport"], "websocket");
    assert_eq!(g["http"][0]["method"], "RDG_OUT_DATA");
    assert_eq!(g["http"][0]["path"], "/remoteDesktopGateway/");
    assert_eq!(g["http"][0]["status"], 101);
    assert_eq!(g["auth"]["scheme"], "Negotiate");
    assert_eq!(g["auth"]["mechanism"], "kerberos");
    assert_eq!(g["auth"]["domain"], "AD.IT-HELP.NINJA");
    // RDG-User-Id (base64 UTF-16LE) names the user of a Kerberos login.
    assert_eq!(g["auth"]["user"], "ProtectedUser@ad.it-help.ninja");
    for (k, frame) in [("tunnel", 45), ("tunnel_auth", 47), ("channel", 49)] {
        assert_eq!(g[k]["status"], 0, "{k}");
        assert_eq!(g[k]["name"], "ERROR_SUCCESS", "{k}");
        assert_eq!(g[k]["frame"], frame, "{k}");
    }
    assert_eq!(g["channel"]["target"]["host"], "IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(g["channel"]["target"]["port"], 3389);
    assert_eq!(g["inner"], serde_json::json!([3]));
    assert_eq!(leg["outcome"], "success");
    assert_eq!(leg["transport"], "tcp");

    let kdc = &rs[1];
    assert_eq!(kdc["gateway"]["role"], "kdc_proxy");
    assert_eq!(kdc["tls"]["alpn"], "h2");
    let msgs: Vec<(u64, &str, Option<&str>)> = kdc["gateway"]["kdc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["frame"].as_u64().unwrap(),
                k["message"].as_str().unwrap(),
                k["error"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        msgs,
        vec![
            (23, "AS-REQ", None),
            (28, "KRB-ERROR", Some("KDC_ERR_PREAUTH_REQUIRED")),
            (30, "AS-REQ", None),
            (32, "AS-REP", None),
            (35, "TGS-REQ", None),
            (37, "TGS-REP", None),
        ]
    );
    assert_eq!(kdc["outcome"], "success");
    assert!(!codes(kdc).contains(&"kdc_proxy_failed".to_string()));

    let inner = &rs[2];
    assert_eq!(inner["id"], 3);
    assert_eq!(inner["transport"], "rdg");
    assert_eq!(inner["via_gateway"]["id"], 1);
    assert_eq!(inner["via_gateway"]["target"]["host"], "IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(inner["client"], leg["client"]);
    assert_eq!(inner["server"], leg["server"]);
    assert!(inner["negotiation"]["selected"].to_string().contains("hybrid_ex"));
    assert_eq!(inner["tls"]["version"], "1.2", "the inner connection's own TLS");
    assert_eq!(inner["outcome"], "success");
    assert!(codes(inner).contains(&"via_gateway".to_string()));

    assert_eq!(
        our_http(&rs),
        tshark_http(&path)
            .iter()
            .map(|(f, s, r)| (f - 2, *s, r.clone()))
            .collect::<Vec<_>>()
    );
    // The tunnel's server selects no ALPN; the KDC proxy's selects h2.
    assert_eq!(tshark_alpn(&path), vec![String::new(), "h2".to_string()]);
    assert_eq!(leg["tls"]["alpn"], Value::Null);
}

#[test]
fn ntlm_gateway_login_after_kdc_proxy_503() {
    let Some(path) = keyed("ntlm_gateway_login_after_kdc_proxy_503", NTLM) else {
        return;
    };
    let rs = conns(&path);
    assert_eq!(rs.len(), 4);
    let g = &rs[0]["gateway"];
    let http: Vec<(u64, u64)> = g["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["frame"].as_u64().unwrap(), h["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(http, vec![(52, 401), (54, 101)]);
    assert_eq!(g["http"][0]["reason"], "Unauthorized");
    assert_eq!(g["auth"]["mechanism"], "ntlm");
    assert_eq!(g["auth"]["user"], "Administrator@ad.it-help.ninja");
    assert_eq!(g["auth"]["domain"], Value::Null);
    assert_eq!(g["channel"]["name"], "ERROR_SUCCESS");
    assert_eq!(g["inner"], serde_json::json!([4]));
    assert_eq!(rs[0]["outcome"], "success");
    for kdc in &rs[1..3] {
        assert_eq!(kdc["gateway"]["role"], "kdc_proxy");
        assert_eq!(kdc["gateway"]["kdc"][0]["message"], "AS-REQ");
        assert!(codes(kdc).contains(&"kdc_proxy_failed".to_string()), "{:?}", codes(kdc));
        assert_ne!(kdc["outcome"], "failed");
    }
    assert_eq!(rs[3]["transport"], "rdg");
    assert_eq!(rs[3]["via_gateway"]["id"], 1);
    assert_eq!(rs[3]["outcome"], "success");
    let th = tshark_http(&path);
    assert_eq!(
        th.iter().map(|(f, s, r)| (*f, *s, r.as_str())).collect::<Vec<_>>(),
        vec![(53, 401, "Unauthorized"), (56, 101, "Switching Protocols")]
    );
    // Our exchange is listed at its request's frame; the answers are the next frames.
    assert_eq!(
        our_http(&rs).iter().map(|x| x.1).collect::<Vec<_>>(),
        th.iter().map(|x| x.1).collect::<Vec<_>>()
    );
}

#[test]
fn without_keys_legs_are_https_not_failed_rdp() {
    let Some(dir) = common::keyed_corpus("without_keys_legs_are_https_not_failed_rdp") else {
        return;
    };
    if !common::require("without_keys: needs editcap", common::has_tool("editcap", "-h")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for name in [KERBEROS, NTLM] {
        let out = tmp.path().join(name);
        let ok = Command::new("editcap")
            .arg("--discard-all-secrets")
            .arg(dir.join(name))
            .arg(&out)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let rs = conns(&out);
        assert!(!rs.is_empty());
        for r in &rs {
            assert_eq!(r["gateway"]["role"], "unknown", "{name} #{}", r["id"]);
            assert_ne!(r["outcome"], "failed", "{name} #{}: {:?}", r["id"], codes(r));
            assert!(codes(r).contains(&"https_unread".to_string()));
            assert_eq!(r["tls"]["version"], "1.2");
            assert_eq!(r["tls"]["cipher"]["name"], "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        }
        assert!(rs.iter().any(|r| r["tls"]["alpn"] == "h2"));
        assert!(rs
            .iter()
            .any(|r| r["tls"]["alpn_offered"] == serde_json::json!(["h2", "http/1.1"])));
    }
}

#[test]
fn tui_shows_the_inner_connection_indented_under_its_leg() {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use rdpscope::capture::Filter;
    use rdpscope::live::Snapshot;
    use rdpscope::tui::state::{SortColumn, UiState};
    let Some(path) = keyed("tui_shows_the_inner_connection_indented_under_its_leg", NTLM) else {
        return;
    };
    let cfg = cfg443();
    let res = rdpscope::pipeline::analyze_file(&path, &Filter::Ports(cfg.server_ports.clone()), &cfg, 1, &mut |_| {})
        .unwrap();
    let snap = std::sync::Arc::new(Snapshot::from_records("keyed", res.records));
    // Sorted by outcome, the inner connection (#4) still follows its leg (#1).
    let mut st = UiState {
        sort: SortColumn::Outcome,
        ..UiState::default()
    };
    let ids: Vec<u64> = st.rows(&snap).iter().map(|v| v.record.id).collect();
    let leg = ids.iter().position(|i| *i == 1).unwrap();
    assert_eq!(ids.get(leg + 1), Some(&4), "{ids:?}");
    let mut t = Terminal::new(TestBackend::new(200, 30)).unwrap();
    t.draw(|f| rdpscope::tui::render::draw(f, &snap, &mut st)).unwrap();
    let screen = t.backend().to_string();
    assert!(screen.contains("└ 10.10.0.131:49872"), "{screen}");
}
