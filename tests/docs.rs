//! docs/findings.md and the catalogue in the code say the same thing, and every example
//! capture the document names really produces its finding.

mod common;

use rdpscope::config::Config;
use rdpscope::diagnosis::catalog::REMEDIES;

fn findings_md() -> String {
    std::fs::read_to_string(common::root().join("docs/findings.md")).unwrap()
}

#[test]
fn every_code_is_documented_with_its_exact_remedy() {
    let doc = findings_md();
    for (key, remedy) in REMEDIES {
        let code = key.split(':').next().unwrap();
        assert!(
            doc.contains(&format!("## `{code}`")),
            "docs/findings.md has no section for {code}"
        );
        assert!(
            doc.contains(remedy),
            "docs/findings.md does not carry the remedy of {key} verbatim"
        );
    }
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
