//! With the session keys, the verdict is read inside TLS: the real Windows captures (keys in
//! their Decryption Secrets Blocks) and the lab captures with their key logs go through the
//! whole pipeline (`rdpscope analyze`, libpcap and all), and what the records say is what the
//! server said. Without keys the same captures keep their keyless verdicts.

mod common;

use serde_json::Value;

fn analyze(args: &[&str]) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["type"] == "connection")
        .collect()
}

fn cause(r: &Value) -> &Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "error")
        .unwrap_or(&Value::Null)
}

#[test]
fn windows_ntlm_refused_for_a_protected_user_is_read_not_inferred() {
    let Some(dir) = common::keyed_corpus("windows_ntlm_refused") else {
        return;
    };
    let f = dir.join("awakecoding-wireshark-rdp__rdp-nla-ntlm-rejected2.pcapng");
    let recs = analyze(&[f.to_str().unwrap()]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["decryption"]["keys"], "capture");
    assert_eq!(r["decryption"]["stopped"], Value::Null);
    assert_eq!(r["outcome"], "failed");
    let c = cause(r);
    assert_eq!(c["code"], "nla_failed");
    assert_eq!(c["inferred"], false);
    assert_eq!(c["frames"], serde_json::json!([18, 19]));
    assert!(c["summary"].as_str().unwrap().contains("STATUS_ACCOUNT_RESTRICTION"));
    assert!(c["remedy"].as_str().unwrap().contains("Protected Users"));
    let n = &r["nla"];
    assert_eq!(n["mechanism"], "ntlm");
    assert_eq!(n["credssp_version"], 6);
    assert_eq!(n["user"], "ProtectedUser@ad.it-help.ninja");
    assert_eq!(n["workstation"], "IT-HELP-CLIENT");
    assert_eq!(
        n["error"],
        serde_json::json!({"code": "0xC000006E", "name": "STATUS_ACCOUNT_RESTRICTION", "frame": 19})
    );
    // No RDP PDU follows a refused NLA.
    assert_eq!(r["session"], Value::Null);
    // Before it, on port 88 in clear: pre-authentication required (normal), then failed.
    let codes: Vec<i64> = r["kerberos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["error"]["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [25, 24]);
    assert_eq!(r["kerberos"][1]["error"]["name"], "KDC_ERR_PREAUTH_FAILED");
    assert_eq!(r["kerberos"][1]["kdc"]["port"], 88);
    let k = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "kerberos_error")
        .unwrap();
    assert_eq!(k["severity"], "warning");
    assert_eq!(k["frames"], serde_json::json!([10]));
}

#[test]
fn windows_kerberos_session_reads_logon_licence_and_error_info() {
    let Some(dir) = common::keyed_corpus("windows_kerberos_session") else {
        return;
    };
    let f = dir.join("awakecoding-wireshark-rdp__rdp-nla-kerberos-auth1.pcapng");
    let recs = analyze(&[f.to_str().unwrap()]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["outcome"], "success");
    assert_eq!(r["phase_reached"], "logon");
    assert_eq!(r["decryption"]["keys"], "capture");
    assert_eq!(r["decryption"]["stopped"], Value::Null);
    let n = &r["nla"];
    assert_eq!(n["mechanism"], "kerberos_u2u");
    assert_eq!(n["service"], "TERMSRV/IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(n["early_user_auth"]["result"], "success");
    assert_eq!(n["error"], Value::Null);
    let s = &r["session"];
    assert_eq!(s["user"], "Administrator@ad.it-help.ninja");
    assert_eq!(s["client"]["name"], "IT-HELP-CLIENT");
    assert_eq!(s["client"]["version"], "Windows 11 22H2");
    assert_eq!(s["license"]["result"], "valid_client");
    assert_eq!(s["license"]["name"], "STATUS_VALID_CLIENT");
    assert!(s["logon"]["kind"].as_str().unwrap().starts_with("INFOTYPE_LOGON"));
    assert_eq!(s["error_info"][0]["code"], "0x0000000B");
    assert_eq!(s["error_info"][0]["name"], "ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER");
    assert_eq!(s["disconnect"]["reason"], "user requested");
    // The user ended it: information, not a failure.
    let d = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "disconnected")
        .expect("disconnected finding");
    assert_eq!(d["severity"], "info");
    assert_eq!(d["inferred"], false);
    assert_eq!(r["client_error"], Value::Null);
}

#[test]
fn lab_nla_refusal_names_the_credentials_and_the_close() {
    let root = common::root().join("fixtures/lab");
    let pcap = root.join("nla-wrong-password.pcap");
    let keys = root.join("nla-wrong-password.keys");
    let recs = analyze(&["--keylog", keys.to_str().unwrap(), pcap.to_str().unwrap()]);
    assert!(!recs.is_empty());
    for r in &recs {
        assert_eq!(r["decryption"]["keys"], "keylog");
        assert_eq!(r["nla"]["user"], "labuser");
        let c = cause(r);
        assert_eq!(c["code"], "nla_failed");
        assert!(c["detail"].as_str().unwrap().starts_with("read inside TLS"), "{c}");
    }
    // Without the key log: the keyless inference, and no decryption objects.
    for r in analyze(&[pcap.to_str().unwrap()]) {
        assert_eq!(r["decryption"], Value::Null);
        assert_eq!(r["nla"], Value::Null);
        assert_eq!(cause(&r)["code"], "nla_failed");
        assert!(!cause(&r)["detail"].as_str().unwrap().starts_with("read inside TLS"));
    }
}

#[test]
fn tls13_certificates_become_visible_with_keys() {
    let root = common::root().join("fixtures/lab");
    let pcap = root.join("success-tls13.pcap");
    let keys = root.join("success-tls13.keys");
    let without = analyze(&[pcap.to_str().unwrap()]);
    assert_eq!(without[0]["tls"]["version"], "1.3");
    assert_eq!(without[0]["tls"]["certificate"], Value::Null);
    let with = analyze(&["--keylog", keys.to_str().unwrap(), pcap.to_str().unwrap()]);
    assert_eq!(with[0]["outcome"], "success");
    assert!(with[0]["tls"]["certificate"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("CN="));
    assert_eq!(with[0]["session"]["license"]["result"], "valid_client");
}

#[test]
fn a_wrong_key_stops_decryption_with_a_reason_and_keeps_the_keyless_verdict() {
    let root = common::root().join("fixtures/lab");
    let pcap = root.join("success-nla.pcap");
    let good = std::fs::read_to_string(root.join("success-nla.keys")).unwrap();
    // Flip the last hex digit of every secret: same client randoms, wrong keys.
    let bad: String = good
        .lines()
        .map(|l| {
            let mut s = l.to_string();
            if let Some(c) = s.pop() {
                s.push(if c == '0' { '1' } else { '0' });
            }
            s + "\n"
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("bad.keys");
    std::fs::write(&k, bad).unwrap();
    let recs = analyze(&["--keylog", k.to_str().unwrap(), pcap.to_str().unwrap()]);
    let keyless = analyze(&[pcap.to_str().unwrap()]);
    assert_eq!(recs[0]["outcome"], keyless[0]["outcome"]);
    let stopped = recs[0]["decryption"]["stopped"].as_str().unwrap();
    assert!(stopped.starts_with("bad_record_mac"), "{stopped}");
    assert_eq!(recs[0]["nla"], Value::Null);
}

#[test]
fn keys_never_reach_an_output() {
    let root = common::root().join("fixtures/lab");
    let keys = std::fs::read_to_string(root.join("success-nla.keys")).unwrap();
    let secrets: Vec<&str> = keys.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    assert!(!secrets.is_empty());
    for format in ["json", "text"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["analyze", "--format", format, "--keylog"])
            .arg(root.join("success-nla.keys"))
            .arg(root.join("success-nla.pcap"))
            .output()
            .unwrap();
        let all = [out.stdout, out.stderr].concat().to_ascii_lowercase();
        let all = String::from_utf8_lossy(&all);
        for s in &secrets {
            assert!(
                !all.contains(&s.to_ascii_lowercase()),
                "a secret reached the {format} output"
            );
        }
    }
}

/// (outcome, cause) of every TCP connection, with whether it was decrypted.
fn verdicts(args: &[&str]) -> Vec<(String, String, bool)> {
    analyze(args)
        .iter()
        .filter(|r| r["transport"] == "tcp")
        .map(|r| {
            (
                r["outcome"].as_str().unwrap().to_string(),
                cause(r)["code"].as_str().unwrap_or("").to_string(),
                !r["decryption"].is_null(),
            )
        })
        .collect()
}

/// Where the keys make the cause sharper than the keyless rules can (docs/inside-tls.md):
/// (capture, keyless cause, keyed cause).
const SHARPENED: &[(&str, &str, &str)] = &[
    // The server's orderly end after Demand Active and before any logon notification is
    // visible only inside TLS; without keys it is the RST that follows.
    ("keyed-shadow-auth-failed", "server_reset", "logon_not_completed"),
];

/// docs/inside-tls.md: on every lab connection with a key, the keyless outcome is the keyed
/// one, and so is the cause except where listed in SHARPENED.
#[test]
fn keyless_verdicts_equal_keyed_ones_on_the_keyed_lab_captures() {
    let lab = common::root().join("fixtures/lab");
    let mut compared = 0;
    let mut sharpened = 0;
    for keys in std::fs::read_dir(&lab).unwrap().flatten().map(|e| e.path()) {
        if keys.extension().is_none_or(|e| e != "keys") {
            continue;
        }
        let pcap = keys.with_extension("pcap");
        // RD Gateway legs are judged only with the keys (the HTTP and MS-TSGU are inside TLS;
        // without them a leg is `https_unread`, and its tunnelled RDP connection is not seen):
        // tests/gateway_lab.rs checks both ways.
        if pcap
            .file_stem()
            .is_some_and(|s| s.to_string_lossy().starts_with("gateway-"))
        {
            continue;
        }
        let ports = std::fs::read_to_string(keys.with_extension("ports")).unwrap_or_default();
        let mut args: Vec<String> = ports
            .split_whitespace()
            .flat_map(|p| ["--port".to_string(), p.to_string()])
            .collect();
        args.push(pcap.to_str().unwrap().to_string());
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let keyless = verdicts(&a);
        let mut k = vec!["--keylog", keys.to_str().unwrap()];
        k.extend(&a);
        let keyed = verdicts(&k);
        assert_eq!(keyless.len(), keyed.len(), "{}", pcap.display());
        let name = pcap.file_stem().unwrap().to_string_lossy().to_string();
        for (l, d) in keyless.iter().zip(&keyed) {
            if !d.2 {
                continue;
            }
            compared += 1;
            // The outcome never changes; the cause may only become sharper, where listed.
            assert_eq!(l.0, d.0, "{name}: outcome keyless vs keyed");
            if l.1 != d.1 {
                assert!(
                    SHARPENED.contains(&(name.as_str(), l.1.as_str(), d.1.as_str())),
                    "{name}: keyless {} vs keyed {} (not a documented sharpening)",
                    l.1,
                    d.1
                );
                sharpened += 1;
            }
        }
    }
    assert!(compared >= 21, "only {compared} keyed lab connections compared");
    assert_eq!(sharpened, SHARPENED.len());
}

#[test]
fn replay_decrypts_with_a_key_log_like_analyze() {
    let root = common::root().join("fixtures/lab");
    let pcap = root.join("success-nla.pcap");
    let keys = root.join("success-nla.keys");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["replay", "--fast", "--format", "json", "--keylog"])
        .arg(&keys)
        .arg(&pcap)
        .output()
        .unwrap();
    let replayed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["type"] == "connection")
        .collect();
    let analyzed = analyze(&["--keylog", keys.to_str().unwrap(), pcap.to_str().unwrap()]);
    assert_eq!(replayed.len(), analyzed.len());
    for (r, a) in replayed.iter().zip(&analyzed) {
        for k in ["decryption", "nla", "session", "outcome"] {
            assert_eq!(r[k], a[k], "{k}");
        }
    }
    assert_eq!(replayed[0]["session"]["user"], "labuser");
}

/// A keyed lab session (Demand Active read, no logon notification), with its end replaced by
/// an orderly server close: the shape of a logon the server refused after the session came up.
#[test]
fn a_session_the_server_ends_before_any_logon_is_logon_not_completed() {
    use rdpscope::analyzer::{Analyzer, Finished};
    use rdpscope::capture::{file, keys, Filter};
    use rdpscope::config::Config;
    use rdpscope::flow::tcp::Close;
    use rdpscope::flow::Side;

    let lab = common::root().join("fixtures/lab");
    let cfg = Config::default();
    let mut a = Analyzer::new(cfg.clone(), 1);
    a.keys_mut().files = keys::read_keylogs(&[lab.join("success-tls12.keys")]).unwrap();
    file::read(
        &lab.join("success-tls12.pcap"),
        &Filter::Ports(vec![3389]),
        &mut |f| a.on_frame(f.number, f.ts, f.link, f.data, f.wire_len),
        &mut |_| {},
    )
    .unwrap();
    let (mut finished, _) = a.finish();
    let Some(Finished::Tcp(mut c)) = finished.pop() else {
        panic!("a TCP connection")
    };
    let da = c
        .facts
        .inside
        .session
        .demand_active
        .expect("Demand Active read inside TLS");
    assert!(c.facts.inside.session.logon.is_none());
    let before = rdpscope::emit::tcp_record(&c, &cfg);
    assert_eq!(before.outcome, rdpscope::diagnosis::Outcome::Success);
    // The server closes first, in order.
    let end = c.last;
    c.tcp.rsts.clear();
    c.tcp.fins = vec![Close {
        side: Side::Server,
        at: end,
    }];
    let r = rdpscope::emit::tcp_record(&c, &cfg);
    assert_eq!(r.cause(), "logon_not_completed");
    let f = &r.findings[0];
    assert!(f.inferred);
    assert_eq!(f.frames, vec![da.frame, end.frame]);
}

/// The client randoms of the key log lines a pcapng's Decryption Secrets Blocks carry.
fn embedded_randoms(path: &std::path::Path) -> Vec<String> {
    let blocks = rdpscope::decrypt::dsb::scan_tls_keylogs(std::fs::File::open(path).unwrap()).unwrap();
    let mut r: Vec<String> = blocks
        .iter()
        .flat_map(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn evidence_files_carry_their_own_keys_and_decrypt_by_themselves() {
    let lab = common::root().join("fixtures/lab");
    let pcap = lab.join("nla-wrong-password.pcap");
    let keys = lab.join("nla-wrong-password.keys");
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json", "--keylog"])
        .arg(&keys)
        .arg("--write-evidence")
        .arg(dir.path())
        .arg(&pcap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let mut seen = Vec::new();
    for f in &files {
        assert_eq!(f.extension().unwrap(), "pcapng");
        // Only its own connection's keys: one client random per file, a different one each.
        let randoms = embedded_randoms(f);
        assert_eq!(randoms.len(), 1, "{}", f.display());
        seen.extend(randoms);
        // Analyzed alone, without --keylog: decrypted from its own block, same verdict.
        let recs = analyze(&[f.to_str().unwrap()]);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0]["decryption"]["keys"], "capture");
        assert_eq!(recs[0]["nla"]["user"], "labuser");
        assert_eq!(cause(&recs[0])["code"], "nla_failed");
    }
    seen.dedup();
    assert_eq!(seen.len(), 2);
}

#[test]
fn the_live_view_writes_a_connection_with_its_keys() {
    use rdpscope::capture::{file, keys, Filter};
    use rdpscope::live::frames::FrameStore;
    let lab = common::root().join("fixtures/lab");
    let mut store = FrameStore::new(64 << 20);
    file::read(
        &lab.join("success-tls12.pcap"),
        &Filter::Ports(vec![3389]),
        &mut |f| store.push(f),
        &mut |_| {},
    )
    .unwrap();
    let rec = &analyze(&[lab.join("success-tls12.pcap").to_str().unwrap()])[0];
    let ep = |v: &Value| rdpscope::flow::Endpoint {
        ip: v["ip"].as_str().unwrap().parse().unwrap(),
        port: v["port"].as_u64().unwrap() as u16,
    };
    let kl = keys::read_keylogs(&[lab.join("success-tls12.keys")]).unwrap();
    let lines: String = std::fs::read_to_string(lab.join("success-tls12.keys")).unwrap();
    let cr_hex = lines.split_whitespace().nth(1).unwrap();
    let mut cr = [0u8; 32];
    for (i, b) in cr.iter_mut().enumerate() {
        *b = u8::from_str_radix(&cr_hex[2 * i..2 * i + 2], 16).unwrap();
    }
    let keylog = kl.get(&cr).unwrap().to_keylog_lines(&cr);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.pcapng");
    let (n, partial) = store
        .write(&rdpscope::capture::extract::Wanted {
            client: ep(&rec["client"]),
            server: ep(&rec["server"]),
            tcp: true,
            frames: [rec["frames"][0].as_u64().unwrap(), rec["frames"][1].as_u64().unwrap()],
            path: p.clone(),
            keylog: Some(keylog),
        })
        .unwrap();
    assert!(n > 10 && !partial);
    let again = analyze(&[p.to_str().unwrap()]);
    assert_eq!(again[0]["decryption"]["keys"], "capture");
    assert_eq!(again[0]["session"]["user"], "labuser");
}

#[test]
fn redaction_covers_the_names_read_inside_tls() {
    let Some(dir) = common::keyed_corpus("redaction_inside_tls") else {
        return;
    };
    for name in [
        "awakecoding-wireshark-rdp__rdp-nla-ntlm-rejected2.pcapng",
        "awakecoding-wireshark-rdp__rdp-nla-kerberos-auth1.pcapng",
    ] {
        let f = dir.join(name);
        for format in ["json", "text"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
                .args(["analyze", "--redact", "--format", format])
                .arg(&f)
                .env("RDPSCOPE_REDACT_KEY", "k")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
            for secret in [
                "protecteduser",
                "administrator@ad.it-help.ninja",
                "it-help-client",
                "termsrv/it-help-test",
            ] {
                assert!(!text.contains(secret), "{name} ({format}): {secret} not redacted");
            }
            assert!(text.contains("[redacted:"));
        }
    }
}

/// A Server Redirection read inside TLS links the client's next connection to the target.
#[test]
fn the_connection_after_a_redirection_is_linked_to_it() {
    use rdpscope::analyzer::{Analyzer, Finished};
    use rdpscope::capture::{file, keys, Filter};
    use rdpscope::config::Config;
    use rdpscope::emit::Emitter;
    use rdpscope::proto::rdp::share::Redirection;

    let lab = common::root().join("fixtures/lab");
    let cfg = Config::default();
    let conn = |id: u64| {
        let mut a = Analyzer::new(cfg.clone(), id);
        a.keys_mut().files = keys::read_keylogs(&[lab.join("success-tls12.keys")]).unwrap();
        file::read(
            &lab.join("success-tls12.pcap"),
            &Filter::Ports(vec![3389]),
            &mut |f| a.on_frame(f.number, f.ts, f.link, f.data, f.wire_len),
            &mut |_| {},
        )
        .unwrap();
        let (mut finished, _) = a.finish();
        let Some(Finished::Tcp(c)) = finished.pop() else {
            panic!("a TCP connection")
        };
        c
    };
    for (target, linked) in [(None, true), (Some("10.99.0.1"), true), (Some("192.0.2.7"), false)] {
        let mut first = conn(1);
        let at = first.first;
        first.facts.inside.session.redirect = Some((
            at,
            Redirection {
                session_id: 0,
                redir_flags: 0,
                target_net_address: target.map(str::to_string),
                load_balance_info_len: None,
                user_name: None,
                domain: None,
            },
        ));
        let mut em = Emitter::new(&cfg, None);
        let a = em.finished(Finished::Tcp(first));
        assert!(a.findings.iter().any(|f| f.code == "redirected"));
        let b = em.finished(Finished::Tcp(conn(2)));
        assert_eq!(b.redirected_from, linked.then_some(1), "target {target:?}");
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json.get("redirected_from").is_some(), linked);
    }
}
