//! Every real fixture against what tshark 4.0 extracted from it (fixtures/real/tshark-facts,
//! copied from the shared corpus): cookie, requested and selected protocols, failure code,
//! TLS versions and cipher, encrypted alerts, FIN/RST sides and frames, payload bytes and
//! the handshake RTT (within 10 %). Streams tshark lists that are not RDP (no server port
//! 3389, nor the proxy port of `NAME.ports`) are not connections for rdpscope and are
//! skipped; see fixtures/real/REVIEW.md.

mod common;

use rdpscope::config::Config;
use rdpscope::proto::x224;
use serde_json::Value;

fn hex_in_parens(s: &str) -> u32 {
    let inner = s.rsplit('(').next().unwrap_or_default().trim_end_matches(')');
    u32::from_str_radix(inner.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("hex in {s:?}"))
}

fn side_frame(s: &str) -> (&'static str, u64) {
    let (side, frame) = s.split_once('@').expect("SIDE@FRAME");
    (
        if side == "C" { "client" } else { "server" },
        frame.parse().expect("frame"),
    )
}

fn closes(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["side"].as_str().unwrap_or("").to_string(),
                        c["frame"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Frames that repeat an earlier frame byte for byte within 1 ms (a capture that saw each
/// packet twice): tshark lists them, rdpscope analyzes each packet once (capture::copies).
/// Each copy's frame number, sender (`ip:port`) and TCP payload length.
fn copy_frames(pcap: &std::path::Path) -> std::collections::HashMap<u64, (String, u64)> {
    let mut cap = pcap::Capture::from_file_with_precision(pcap, pcap::Precision::Nano).unwrap();
    let link = rdpscope::decode::LinkType::from_dlt(cap.get_datalink().0).unwrap();
    let mut recent: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut copies = std::collections::HashMap::new();
    let mut n = 0;
    while let Ok(p) = cap.next_packet() {
        n += 1;
        let ts = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec;
        recent.retain(|(t, _)| ts - t <= 1_000_000);
        if recent.iter().any(|(_, d)| d == p.data) {
            let sender = match rdpscope::decode::decode(link, p.data, p.header.len) {
                Ok(d) => match d.transport {
                    rdpscope::decode::Transport::Tcp(t) => {
                        (format!("{}:{}", d.src, t.src_port), d.payload.len() as u64)
                    }
                    _ => (String::new(), 0),
                },
                Err(_) => (String::new(), 0),
            };
            copies.insert(n, sender);
        } else {
            recent.push((ts, p.data.to_vec()));
        }
    }
    copies
}

#[test]
fn real_fixtures_agree_with_tshark() {
    let facts_dir = common::root().join("fixtures/real/tshark-facts");
    let mut checked_streams = 0;
    for pcap in common::captures("real") {
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let facts: Value =
            serde_json::from_str(&std::fs::read_to_string(facts_dir.join(format!("{name}.json"))).unwrap()).unwrap();
        let records = common::analyze(&pcap, &Config::default());
        let copies = copy_frames(&pcap);
        for s in facts["streams"].as_array().unwrap() {
            let server = s["server"].as_str().unwrap();
            let port: u16 = server.rsplit(':').next().unwrap().parse().unwrap();
            if port != 3389 && !common::extra_ports(&pcap).contains(&port) {
                continue;
            }
            let client = s["client"].as_str().unwrap();
            let ctx = format!("{name} stream {} ({client})", s["stream"]);
            let r = records
                .iter()
                .find(|r| format!("{}:{}", r["client"]["ip"].as_str().unwrap(), r["client"]["port"]) == client)
                .unwrap_or_else(|| panic!("{ctx}: no connection"));
            checked_streams += 1;

            for e in s["rdp_events"].as_array().unwrap() {
                if let Some(c) = e["cookie"].as_str() {
                    let want = c.strip_prefix("Cookie: mstshash=");
                    match want {
                        Some(w) => assert_eq!(r["cookie"].as_str(), Some(w), "{ctx}: cookie"),
                        None => assert_eq!(
                            r["routing_token"].as_str(),
                            c.strip_prefix("Cookie: "),
                            "{ctx}: routing token"
                        ),
                    }
                }
                if e["cotp"] == "0x0e" {
                    assert_eq!(
                        r["negotiation"]["request_frame"].as_u64(),
                        e["f"].as_u64(),
                        "{ctx}: CR frame"
                    );
                    match e["requested"].as_str() {
                        Some(req) => assert_eq!(
                            r["negotiation"]["requested"],
                            serde_json::json!(x224::Protocols(hex_in_parens(req)).names()),
                            "{ctx}: requested"
                        ),
                        None => assert!(r["negotiation"]["requested"].is_null(), "{ctx}: legacy request"),
                    }
                }
                if e["cotp"] == "0x0d" {
                    assert_eq!(
                        r["negotiation"]["response_frame"].as_u64(),
                        e["f"].as_u64(),
                        "{ctx}: CC frame"
                    );
                    if let Some(sel) = e["selected"].as_str() {
                        assert_eq!(
                            r["negotiation"]["selected"].as_str(),
                            Some(x224::Protocols(hex_in_parens(sel)).name().as_str()),
                            "{ctx}: selected"
                        );
                    }
                    if let Some(f) = e["failure"].as_str() {
                        let code: u64 = f.split(':').next().unwrap().parse().unwrap();
                        assert_eq!(
                            r["negotiation"]["failure"]["code"].as_u64(),
                            Some(code),
                            "{ctx}: failure"
                        );
                    }
                }
            }

            if let Some(t) = s.get("tls") {
                let rt = &r["tls"];
                assert!(rt.is_object(), "{ctx}: TLS expected");
                if let Some(v) = t["server_hello_ver"].as_str() {
                    assert_eq!(rt["version"].as_str(), v.strip_prefix("TLS"), "{ctx}: TLS version");
                }
                if let Some(v) = t["client_hello_ver"].as_str() {
                    let offered: Vec<&str> = rt["client_versions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect();
                    assert!(
                        offered.contains(&v.strip_prefix("TLS").unwrap()),
                        "{ctx}: client versions {offered:?}"
                    );
                }
                if let Some(c) = t["cipher"].as_str() {
                    let id = u64::from_str_radix(c.trim_start_matches("0x"), 16).unwrap();
                    assert_eq!(rt["cipher"]["id"].as_u64(), Some(id), "{ctx}: cipher");
                }
                if let Some(n) = t["n_client_ciphers"].as_u64() {
                    assert_eq!(rt["client_cipher_count"].as_u64(), Some(n), "{ctx}: cipher count");
                }
                if let Some(f) = t["client_hello_f"].as_u64() {
                    assert_eq!(rt["client_hello_frame"].as_u64(), Some(f), "{ctx}: ClientHello frame");
                }
                let enc: Vec<(String, u64)> = rt["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["encrypted"] == true)
                    .map(|a| (a["from"].as_str().unwrap().to_string(), a["frame"].as_u64().unwrap()))
                    .collect();
                let want: Vec<(String, u64)> = t["encrypted_alerts"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| {
                                let (s, f) = side_frame(x.as_str().unwrap());
                                (s.to_string(), f)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(enc, want, "{ctx}: encrypted alerts");
            }

            let tcp = &r["tcp"];
            for (key, field) in [("fin", "fin"), ("rst", "rst")] {
                let want: Vec<(String, u64)> = s[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        let (s, f) = side_frame(x.as_str().unwrap());
                        (s.to_string(), f)
                    })
                    .filter(|(_, f)| !copies.contains_key(f))
                    .collect();
                assert_eq!(closes(&tcp[field]), want, "{ctx}: {key}");
            }
            // tshark counts the copies' payload too.
            let copied = |from: &str| -> u64 { copies.values().filter(|(s, _)| s == from).map(|(_, l)| l).sum() };
            assert_eq!(
                tcp["payload_bytes"]["client"].as_u64(),
                s["bytes_c2s"].as_u64().map(|b| b - copied(client)),
                "{ctx}: bytes c2s"
            );
            assert_eq!(
                tcp["payload_bytes"]["server"].as_u64(),
                s["bytes_s2c"].as_u64().map(|b| b - copied(server)),
                "{ctx}: bytes s2c"
            );
            if let Some(want) = s["initial_rtt_ms"].as_f64() {
                let got = tcp["handshake_rtt_ms"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{ctx}: no handshake RTT"));
                assert!(
                    (got - want).abs() <= want * 0.10 + 0.001,
                    "{ctx}: RTT {got} vs tshark {want}"
                );
            }
        }
    }
    // Every RDP stream tshark listed in the real captures; none may be dropped silently.
    assert_eq!(checked_streams, 13, "RDP streams checked against tshark");
}
