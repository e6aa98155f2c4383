//! Golden results: every capture under fixtures/real and fixtures/lab goes through the
//! real pipeline, and its JSON lines must equal the reviewed snapshot stored next to it
//! (`NAME.snap`). Review changes with `cargo insta review`; the review notes for the real
//! captures are in fixtures/real/REVIEW.md, for the lab in fixtures/lab/README.md.
//!
//! A snapshot holds what was reviewed (verdict, codes, frames, facts), not the catalogue's
//! prose: each finding's `remedy` is replaced by `<catalogue KEY>`, the key of
//! `diagnosis::catalog::REMEDIES` whose text it is, so rewording a remedy changes no
//! snapshot. The texts themselves are checked against docs/findings.md by tests/docs.rs.

mod common;

use rdpscope::config::Config;
use rdpscope::diagnosis::catalog::REMEDIES;
use serde_json::Value;

/// `<catalogue KEY>` for a remedy text; a text that is not exactly one catalogue entry
/// fails the test.
fn remedy_marker(text: &str) -> String {
    let keys: Vec<&str> = REMEDIES.iter().filter(|(_, r)| *r == text).map(|(k, _)| *k).collect();
    assert_eq!(keys.len(), 1, "remedy is not exactly one catalogue entry: {text:?}");
    format!("<catalogue {}>", keys[0])
}

/// The record as reviewed: each finding's remedy text replaced by its catalogue key.
fn reviewed(mut record: Value) -> Value {
    if let Some(findings) = record.get_mut("findings").and_then(Value::as_array_mut) {
        for f in findings {
            if let Some(text) = f.get("remedy").and_then(Value::as_str) {
                f["remedy"] = Value::String(remedy_marker(text));
            }
        }
    }
    record
}

fn check_dir(dir: &str) -> usize {
    let captures = common::captures(dir);
    for pcap in &captures {
        let stem = pcap.file_stem().unwrap().to_string_lossy().into_owned();
        let lines: Vec<String> = common::analyze(pcap, &Config::default())
            .into_iter()
            .map(|v| serde_json::to_string_pretty(&reviewed(v)).unwrap())
            .collect();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(common::root().join("fixtures").join(dir));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(stem, lines.join("\n\n")));
    }
    captures.len()
}

#[test]
fn real_captures_match_their_reviewed_results() {
    assert_eq!(check_dir("real"), 15);
}

#[test]
fn lab_captures_match_their_reviewed_results() {
    // One per scenario of fixtures/lab/scenarios.tsv that is committed; a capture that
    // goes missing (or is added without a reviewed snapshot) must show up here.
    assert_eq!(check_dir("lab"), 65);
}

#[test]
fn a_remedy_outside_the_catalogue_is_refused() {
    let r = std::panic::catch_unwind(|| remedy_marker("Reboot it."));
    assert!(r.is_err());
    assert_eq!(remedy_marker(REMEDIES[0].1), format!("<catalogue {}>", REMEDIES[0].0));
}
