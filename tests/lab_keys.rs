//! The keyed lab scenarios (fixtures/lab/keyed-*, see fixtures/lab/README.md): each is committed
//! twice, `NAME.pcap` + `NAME.keys` (the client's NSS key log) and `NAME-dsb.pcapng`, the same
//! packets with that key log embedded in a pcapng Decryption Secrets Block (`editcap
//! --inject-secrets tls,NAME.keys NAME.pcap NAME-dsb.pcapng`). For each:
//! - `NAME.pcap` with `--keylog NAME.keys` and `NAME-dsb.pcapng` alone give the same records,
//!   apart from `file` and `decryption.keys` (`keylog` vs `capture`);
//! - decryption never stopped, and records were decrypted both ways;
//! - what rdpscope read inside TLS equals what tshark reads decrypting with the same key log
//!   (and with the DSB): the Client Core build and name, the Client Info user name, the licensing
//!   error code and its frame, the Set Error Info PDUs, and for TLS 1.3 the certificate that only
//!   decryption shows.

mod common;

use std::path::{Path, PathBuf};

use rdpscope::config::Config;
use serde_json::Value;

/// The keyed scenarios whose every record must decrypt, and the TLS version each negotiates.
const KEYED: &[(&str, &str, &str)] = &[
    ("keyed-tls12-aes128-gcm", "1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ("keyed-tls12-cbc-sha256", "1.2", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    ("keyed-tls12-cbc-rsa-sha1", "1.2", "TLS_RSA_WITH_AES_256_CBC_SHA"),
    ("keyed-tls13-aes128-gcm", "1.3", "TLS_AES_128_GCM_SHA256"),
    ("keyed-tls13-chacha20", "1.3", "TLS_CHACHA20_POLY1305_SHA256"),
    ("keyed-shadow-auth-failed", "1.3", "TLS_AES_256_GCM_SHA384"),
];

fn lab(name: &str) -> PathBuf {
    common::root().join("fixtures/lab").join(name)
}

fn keylog_config(keys: &Path) -> Config {
    Config {
        keylogs: vec![keys.to_path_buf()],
        ..Config::default()
    }
}

/// A record without what legitimately differs between the two ways of giving the keys.
fn comparable(mut r: Value) -> Value {
    r["file"] = Value::Null;
    r["decryption"]["keys"] = Value::Null;
    r
}

/// Both ways of analyzing `name`: (with --keylog, from the DSB).
fn both(name: &str) -> (Vec<Value>, Vec<Value>) {
    let keys = lab(&format!("{name}.keys"));
    let with_keylog = common::analyze(&lab(&format!("{name}.pcap")), &keylog_config(&keys));
    let with_dsb = common::analyze(&lab(&format!("{name}-dsb.pcapng")), &Config::default());
    (with_keylog, with_dsb)
}

#[test]
fn keylog_and_embedded_secrets_give_the_same_decrypted_records() {
    for &(name, version, suite) in KEYED {
        let (kl, dsb) = both(name);
        assert!(!kl.is_empty(), "{name}: no connection");
        assert_eq!(kl.len(), dsb.len(), "{name}: connections, keylog vs DSB");
        for (a, b) in kl.iter().zip(&dsb) {
            assert_eq!(a["decryption"]["keys"], "keylog", "{name}");
            assert_eq!(b["decryption"]["keys"], "capture", "{name}");
            for (how, r) in [("keylog", a), ("DSB", b)] {
                let d = &r["decryption"];
                assert!(
                    d["stopped"].is_null(),
                    "{name} ({how}): decryption stopped: {}",
                    d["stopped"]
                );
                for side in ["client", "server"] {
                    let n = d["records"][side].as_u64().unwrap_or(0);
                    assert!(n > 0, "{name} ({how}): no {side} record decrypted");
                }
                assert_eq!(r["tls"]["version"], version, "{name} ({how})");
                assert_eq!(r["tls"]["cipher"]["name"], suite, "{name} ({how})");
                assert!(r["session"].is_object(), "{name} ({how}): nothing read inside TLS");
            }
            assert_eq!(
                comparable(a.clone()),
                comparable(b.clone()),
                "{name}: keylog vs DSB records"
            );
        }
    }
}

/// tshark's values of `field` for the frames matching `filter`, as (frame, value) pairs, one per
/// occurrence; `keys` = None reads the capture's own DSB.
fn tshark_fields(capture: &Path, keys: Option<&Path>, filter: &str, field: &str) -> Vec<(u64, String)> {
    let opts: Vec<String> = keys
        .map(|k| vec!["-o".to_string(), format!("tls.keylog_file:{}", k.display())])
        .unwrap_or_default();
    common::tshark_pairs(capture, &opts, filter, field)
}

#[test]
fn decrypted_facts_match_tshark() {
    if !common::tshark("lab_keys::decrypted_facts_match_tshark") {
        return;
    }
    for &(name, version, _) in KEYED {
        let pcap = lab(&format!("{name}.pcap"));
        let dsb = lab(&format!("{name}-dsb.pcapng"));
        let keys = lab(&format!("{name}.keys"));
        let records = common::analyze(&pcap, &keylog_config(&keys));
        assert_eq!(records.len(), 1, "{name}: one connection");
        let r = &records[0];
        let s = &r["session"];
        // tshark with the key log, and tshark with the DSB, must agree with each other first.
        let t = |filter: &str, field: &str| {
            let with_keys = tshark_fields(&pcap, Some(&keys), filter, field);
            let with_dsb = tshark_fields(&dsb, None, filter, field);
            assert_eq!(with_keys, with_dsb, "{name}: tshark {field}, key log vs DSB");
            with_keys
        };

        let user = t("rdp.userName", "rdp.userName");
        assert_eq!(user.len(), 1, "{name}: one Client Info user for tshark: {user:?}");
        assert_eq!(s["user"], user[0].1.as_str(), "{name}: Client Info user");

        let build = t("rdp.client.build", "rdp.client.build");
        assert_eq!(build.len(), 1, "{name}: {build:?}");
        assert_eq!(s["client"]["build"].to_string(), build[0].1, "{name}: client build");
        let cname = t("rdp.client.name", "rdp.client.name");
        assert_eq!(s["client"]["name"], cname[0].1.as_str(), "{name}: client name");

        // Licensing: the Error Alert (STATUS_VALID_CLIENT here) and the frame that carries it.
        let lic = t("rdp.errorCode", "rdp.errorCode");
        assert_eq!(lic.len(), 1, "{name}: one licensing error code for tshark: {lic:?}");
        let code = u32::from_str_radix(s["license"]["code"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        assert_eq!(code.to_string(), lic[0].1, "{name}: licensing code");
        assert_eq!(s["license"]["frame"], lic[0].0, "{name}: licensing frame");

        // Set Error Info (pduType2 47): tshark 4.0 names the PDU but has no field for its code.
        let set_error_info = t("rdp.pduType2 == 47", "rdp.pduType2");
        let ours: Vec<u64> = s["error_info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["frame"].as_u64().unwrap())
            .collect();
        let theirs: Vec<u64> = set_error_info.iter().map(|(f, _)| *f).collect();
        assert_eq!(ours, theirs, "{name}: Set Error Info frames");

        // The certificate: in clear in TLS 1.2, inside the encrypted server flight in TLS 1.3.
        let cert = &r["tls"]["certificate"];
        let subject = cert["subject"].as_str().expect("certificate read");
        let cn = subject.strip_prefix("CN=").expect("a CN-only subject");
        let names = t("x509sat.uTF8String", "x509sat.uTF8String");
        assert!(
            names.iter().any(|(f, v)| v == cn && cert["frame"] == *f),
            "{name}: certificate {subject} in frame {} vs tshark {names:?}",
            cert["frame"]
        );
        if version == "1.3" {
            let plain = common::analyze(&pcap, &Config::default());
            assert!(
                plain[0]["tls"]["certificate"].is_null(),
                "{name}: a TLS 1.3 certificate is not visible without the keys"
            );
            assert!(
                tshark_fields(&pcap, None, "x509sat.uTF8String", "x509sat.uTF8String").is_empty(),
                "{name}: nor for tshark"
            );
        }
    }
}

/// keyed-tls12-cbc-etm: two OpenSSL peers negotiate encrypt-then-MAC (RFC 7366, extension 22) with
/// a CBC suite; src/proto/tls.rs reads extension 22 from the raw ServerHello list (tls-parser
/// 0.12 files 21, padding, as EncryptThenMac), so the records open the encrypt-then-MAC way.
#[test]
fn cbc_with_encrypt_then_mac_decrypts() {
    let (kl, dsb) = both("keyed-tls12-cbc-etm");
    for r in kl.iter().chain(&dsb) {
        assert_eq!(r["tls"]["cipher"]["name"], "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256");
        assert!(
            r["decryption"]["stopped"].is_null(),
            "stopped: {}",
            r["decryption"]["stopped"]
        );
        assert_eq!(r["session"]["user"], "labuser");
    }
}
