//! docs/findings.md and the catalogue in the code say the same thing, every example
//! capture the document names really produces its finding, and docs/json.md names every
//! key the JSON output has.

mod common;

use std::collections::BTreeSet;

use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::diagnosis::catalog::REMEDIES;
use rdpscope::pipeline;
use serde_json::Value;

fn findings_md() -> String {
    std::fs::read_to_string(common::root().join("docs/findings.md")).unwrap()
}

/// The remedies of docs/findings.md by catalogue key: `**Remedy:** TEXT` under `## \`CODE\``
/// is `CODE`, `**Remedy (failure code N):** TEXT` is `CODE:N`, `**Remedy (CASE):** TEXT` is
/// `CODE:CASE`.
fn documented_remedies(doc: &str) -> Vec<(String, String)> {
    let mut code = String::new();
    let mut out = Vec::new();
    for line in doc.lines() {
        if let Some(c) = line.strip_prefix("## `").and_then(|l| l.strip_suffix('`')) {
            code = c.to_string();
        } else if let Some(text) = line.strip_prefix("**Remedy:** ") {
            out.push((code.clone(), text.to_string()));
        } else if let Some(rest) = line.strip_prefix("**Remedy (") {
            // `(failure code N)` or a case name, e.g. `(http-forbidden)`.
            let (n, text) = rest.split_once("):** ").expect("**Remedy (KEY):** TEXT");
            let n = n.strip_prefix("failure code ").unwrap_or(n);
            out.push((format!("{code}:{n}"), text.to_string()));
        }
    }
    out
}

#[test]
fn every_code_is_documented_with_its_exact_remedy() {
    let doc = findings_md();
    for (key, _) in REMEDIES {
        let code = key.split(':').next().unwrap();
        assert!(
            doc.contains(&format!("## `{code}`")),
            "docs/findings.md has no section for {code}"
        );
    }
    // Both ways and whole lines: every catalogue entry has exactly its text in the
    // document, and the document has no remedy the catalogue lacks.
    let mut documented = documented_remedies(&doc);
    let mut catalogue: Vec<(String, String)> = REMEDIES.iter().map(|(k, r)| (k.to_string(), r.to_string())).collect();
    documented.sort();
    catalogue.sort();
    for ((dk, dr), (ck, cr)) in documented.iter().zip(&catalogue) {
        assert_eq!(dk, ck, "docs/findings.md and the catalogue list different remedies");
        assert_eq!(dr, cr, "docs/findings.md's remedy of {ck} is not the catalogue's text");
    }
    assert_eq!(
        documented.len(),
        catalogue.len(),
        "docs/findings.md has {} remedies, the catalogue {}",
        documented.len(),
        catalogue.len()
    );
}

#[test]
fn every_example_capture_produces_its_finding() {
    let doc = findings_md();
    let mut code = String::new();
    let mut checked = 0;
    for line in doc.lines() {
        if let Some(c) = line.strip_prefix("## `").and_then(|l| l.strip_suffix('`')) {
            code = c.to_string();
        }
        let Some(ex) = line.strip_prefix("- **Example:** `").and_then(|l| l.split('`').next()) else {
            continue;
        };
        if !ex.starts_with("fixtures/") {
            continue;
        }
        let path = common::root().join(ex);
        if !path.exists() && ex.starts_with("fixtures/lab/") && !common::root().join("fixtures/lab/lab.sh").exists() {
            continue;
        }
        let records = common::analyze(&path, &Config::default());
        let found = records.iter().any(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code.as_str())
        });
        assert!(found, "{ex} does not produce {code}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} examples checked");
}

fn json_md() -> String {
    std::fs::read_to_string(common::root().join("docs/json.md")).unwrap()
}

/// Objects whose keys are data (a finding code per key), not fields.
const MAPS: &[&str] = &["failures_by_cause"];

/// Every key path of `v` (`tls.alerts[].frame`), into `out`.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                if !MAPS.contains(&path.as_str()) {
                    key_paths(child, &path, out);
                }
            }
        }
        Value::Array(a) => {
            for child in a {
                key_paths(child, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Whether docs/json.md mentions `path`: in backticks whole (`tls.alerts[].frame` or
/// `tls.alerts.frame`), or as the last key (`` `frame` `` or `"frame"`) on a line that
/// names its parent (`` `tls.alerts ``).
fn documented(doc: &str, path: &str) -> bool {
    let doc = doc.replace("[]", "");
    let path = path.replace("[]", "");
    if doc.contains(&format!("`{path}`")) {
        return true;
    }
    let Some((parent, leaf)) = path.rsplit_once('.') else {
        return false;
    };
    doc.lines().any(|l| {
        (l.contains(&format!("`{parent}`")) || l.contains(&format!("`{parent}.")))
            && (l.contains(&format!("`{leaf}`")) || l.contains(&format!("\"{leaf}\"")))
    })
}

/// Every key path of the records and summaries of all real and lab captures is mentioned
/// in docs/json.md: a new field without documentation fails here.
#[test]
fn every_json_key_path_is_in_json_md() {
    let doc = json_md();
    let mut paths = BTreeSet::new();
    let mut summaries = 0;
    for dir in ["real", "lab"] {
        for pcap in common::captures(dir) {
            let mut cfg = Config::default();
            cfg.server_ports.extend(common::extra_ports(&pcap));
            cfg.keylogs.extend(common::default_keylog(&pcap));
            let res =
                pipeline::analyze_file(&pcap, &Filter::Ports(cfg.server_ports.clone()), &cfg, 1, &mut |_| {}).unwrap();
            for r in &res.records {
                key_paths(&serde_json::to_value(r).unwrap(), "", &mut paths);
            }
            key_paths(&serde_json::to_value(&res.summary).unwrap(), "", &mut paths);
            summaries += 1;
        }
    }
    assert_eq!(summaries, 80, "captures analyzed");
    let missing: Vec<&String> = paths.iter().filter(|p| !documented(&doc, p)).collect();
    assert!(missing.is_empty(), "docs/json.md does not mention {missing:?}");
}
