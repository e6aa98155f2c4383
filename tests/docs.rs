//! docs/findings.md and the catalogue in the code say the same thing, and every example
//! capture the document names really produces its finding.

mod common;

use rdpscope::config::Config;
use rdpscope::diagnosis::catalog::REMEDIES;

fn findings_md() -> String {
    std::fs::read_to_string(common::root().join("docs/findings.md")).unwrap()
}

/// The remedies of docs/findings.md by catalogue key: `**Remedy:** TEXT` under `## \`CODE\``
/// is `CODE`, `**Remedy (failure code N):** TEXT` is `CODE:N`.
fn documented_remedies(doc: &str) -> Vec<(String, String)> {
    let mut code = String::new();
    let mut out = Vec::new();
    for line in doc.lines() {
        if let Some(c) = line.strip_prefix("## `").and_then(|l| l.strip_suffix('`')) {
            code = c.to_string();
        } else if let Some(text) = line.strip_prefix("**Remedy:** ") {
            out.push((code.clone(), text.to_string()));
        } else if let Some(rest) = line.strip_prefix("**Remedy (failure code ") {
            let (n, text) = rest.split_once("):** ").expect("**Remedy (failure code N):** TEXT");
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
