//! `--format ecs` and `--format ocsf` over every fixture: each ECS field outside the custom
//! `rdp.*` exists in ECS with a value of its type (../shared/ecs/fields.csv, name and type);
//! each OCSF attribute path is one of the RDP Activity class's in OCSF 1.7.0 with a value of
//! its type and arity (tests/data/ocsf-1.7.0-rdp_activity.tsv, made by tests/data/ocsf-list.py
//! from the released schema). The lines themselves are golden (tests/snapshots), and the
//! binary's `analyze` and `replay` print the same lines.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::pipeline;
use rdpscope::record::ConnectionRecord;
use rdpscope::report::{ecs, ocsf};
use serde_json::Value;

fn records(pcap: &Path) -> Vec<ConnectionRecord> {
    let mut cfg = Config::default();
    cfg.server_ports.extend(common::extra_ports(pcap));
    cfg.keylogs.extend(common::default_keylog(pcap));
    let filter = Filter::Ports(cfg.server_ports.clone());
    let mut recs = pipeline::analyze_file(pcap, &filter, &cfg, 1, &mut |_| {})
        .unwrap()
        .records;
    // Goldens do not depend on where the repository is checked out.
    for r in &mut recs {
        r.file = r
            .file
            .as_ref()
            .map(|f| format!("fixtures/{}", f.split("/fixtures/").last().unwrap_or(f)));
    }
    recs
}

fn all_records() -> Vec<(String, ConnectionRecord)> {
    ["real", "lab"]
        .iter()
        .flat_map(|d| common::captures(d))
        .flat_map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            records(&p).into_iter().map(move |r| (name.clone(), r))
        })
        .collect()
}

/// Leaf paths of a document with their values; arrays are walked through (their elements
/// share the array's path), `skip` subtrees are left out.
fn leaves<'a>(prefix: &str, v: &'a Value, skip: &[&str], out: &mut Vec<(String, &'a Value, bool)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if skip.contains(&path.as_str()) {
                    continue;
                }
                match v {
                    Value::Array(a) => {
                        for e in a {
                            if e.is_object() {
                                leaves(&path, e, skip, out);
                            } else {
                                out.push((path.clone(), e, true));
                            }
                        }
                    }
                    Value::Object(_) => leaves(&path, v, skip, out),
                    _ => out.push((path, v, false)),
                }
            }
        }
        _ => out.push((prefix.to_string(), v, false)),
    }
}

fn ecs_fields() -> BTreeMap<String, String> {
    let csv =
        std::fs::read_to_string(common::root().join("../shared/ecs/fields.csv")).expect("../shared/ecs/fields.csv");
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let (_, _, _, name, ty) = (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
            Some((name.to_string(), ty.to_string()))
        })
        .collect()
}

fn ecs_type_fits(ty: &str, v: &Value) -> bool {
    match ty {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "ip" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "date" => v
            .as_str()
            .is_some_and(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()),
        _ => false,
    }
}

#[test]
fn every_ecs_field_outside_rdp_exists_in_ecs_with_its_type() {
    let fields = ecs_fields();
    assert!(fields.len() > 1000, "the ECS field list looks truncated");
    let mut seen = BTreeMap::new();
    for (name, r) in all_records() {
        let doc = ecs::document(&r, "test");
        let mut out = Vec::new();
        leaves("", &doc, &["rdp"], &mut out);
        for (path, v, _) in out {
            let ty = fields
                .get(&path)
                .unwrap_or_else(|| panic!("{name} #{}: {path} is not an ECS field", r.id));
            assert!(
                ecs_type_fits(ty, v),
                "{name} #{}: {path} = {v} is not of ECS type {ty}",
                r.id
            );
            *seen.entry(path).or_insert(0) += 1;
        }
    }
    // The fields the issue names are there, on the fixtures that show them.
    for f in [
        "@timestamp",
        "event.kind",
        "event.outcome",
        "event.reason",
        "event.duration",
        "network.community_id",
        "tls.version",
        "tls.cipher",
        "tls.established",
        "tls.client.server_name",
        "tls.server.not_after",
        "tls.server.x509.subject.distinguished_name",
        "user.name",
        "error.code",
        "source.ip",
        "destination.port",
    ] {
        assert!(seen.contains_key(f), "no fixture gave {f}");
    }
}

fn ocsf_list() -> BTreeMap<String, (String, bool)> {
    let tsv = std::fs::read_to_string(common::root().join("tests/data/ocsf-1.7.0-rdp_activity.tsv")).unwrap();
    tsv.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_string(), (f.next()?.to_string(), f.next()? == "array")))
        })
        .collect()
}

fn ocsf_type_fits(ty: &str, v: &Value) -> bool {
    match ty {
        "string_t" | "hostname_t" | "username_t" | "url_t" | "email_t" | "file_name_t" => v.is_string(),
        "integer_t" | "long_t" | "timestamp_t" => v.is_i64() || v.is_u64(),
        "port_t" => v.as_u64().is_some_and(|p| p <= 65535),
        "ip_t" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "boolean_t" => v.is_boolean(),
        "json_t" => true,
        _ => false,
    }
}

#[test]
fn every_ocsf_attribute_is_the_rdp_activity_class_s_with_its_type() {
    let list = ocsf_list();
    let mut activities = BTreeMap::new();
    for (name, r) in all_records() {
        let ev = ocsf::event(&r, "test");
        assert_eq!(ev["class_uid"], 4005);
        assert_eq!(
            ev["type_uid"].as_u64(),
            Some(400500 + ev["activity_id"].as_u64().unwrap())
        );
        *activities
            .entry(ev["activity_name"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        let mut out = Vec::new();
        // `unmapped` is OCSF's place for what it has no attribute for.
        leaves("", &ev, &["unmapped"], &mut out);
        for (path, v, in_array) in out {
            let (ty, array) = list
                .get(&path)
                .unwrap_or_else(|| panic!("{name} #{}: {path} is not an RDP Activity attribute", r.id));
            assert!(ocsf_type_fits(ty, v), "{name} #{}: {path} = {v} is not {ty}", r.id);
            // Object arrays (ja4_fingerprint_list) are checked at their parent.
            if !path.contains('.') || !list.get(path.rsplit_once('.').unwrap().0).is_some_and(|p| p.1) {
                assert_eq!(in_array, *array, "{name} #{}: {path} array-ness", r.id);
            }
        }
    }
    // The fixtures reach the activities of the list.
    for a in [
        "Initial Request",
        "Initial Response",
        "TLS Handshake",
        "Connect Response",
        "Traffic",
    ] {
        assert!(activities.contains_key(a), "no fixture reached {a}: {activities:?}");
    }
}

fn golden(dir: &str, which: &str, render: fn(&ConnectionRecord) -> Value) {
    let mut lines = Vec::new();
    for p in common::captures(dir) {
        for r in records(&p) {
            lines.push(serde_json::to_string(&render(&r)).unwrap());
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(format!("{which}-{dir}"), lines.join("\n")));
}

#[test]
fn ecs_lines_match_their_reviewed_goldens() {
    golden("real", "ecs", |r| ecs::document(r, "VERSION"));
    golden("lab", "ecs", |r| ecs::document(r, "VERSION"));
}

#[test]
fn ocsf_lines_match_their_reviewed_goldens() {
    golden("real", "ocsf", |r| ocsf::event(r, "VERSION"));
    golden("lab", "ocsf", |r| ocsf::event(r, "VERSION"));
}

fn run(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn analyze_and_replay_print_one_event_line_per_connection() {
    let f = common::root().join("fixtures/real/zeek__rdp-proprietary-encryption.pcap");
    let f = f.to_str().unwrap();
    for format in ["ecs", "ocsf"] {
        let analyzed = run(&["analyze", "--format", format, f]);
        let replayed = run(&["replay", "--fast", "--format", format, f]);
        assert_eq!(analyzed.len(), 2, "{format}: one line per connection, no summary line");
        assert_eq!(analyzed, replayed, "{format}: replay differs from analyze");
    }
    let ecs = run(&["analyze", "--format", "ecs", f]);
    assert_eq!(ecs[0]["event"]["outcome"], "failure");
    assert_eq!(ecs[0]["error"]["code"], "negotiation_failure");
    assert_eq!(ecs[1]["event"]["outcome"], "success");
    let ocsf = run(&["analyze", "--format", "ocsf", f]);
    assert_eq!(ocsf[0]["status_id"], 2);
    assert_eq!(ocsf[0]["activity_name"], "Initial Response");
    assert_eq!(ocsf[0]["response"]["error"], "SSL_NOT_ALLOWED_BY_SERVER");
}
