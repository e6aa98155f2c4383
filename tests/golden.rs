//! Golden results: every capture under fixtures/real and fixtures/lab goes through the
//! real pipeline, and its JSON lines must equal the reviewed snapshot stored next to it
//! (`NAME.snap`). Review changes with `cargo insta review`; the review notes for the real
//! captures are in fixtures/real/REVIEW.md, for the lab in fixtures/lab/README.md.

mod common;

use rdpscope::config::Config;

fn check_dir(dir: &str) -> usize {
    let captures = common::captures(dir);
    for pcap in &captures {
        let stem = pcap.file_stem().unwrap().to_string_lossy().into_owned();
        let lines: Vec<String> = common::analyze(pcap, &Config::default())
            .iter()
            .map(|v| serde_json::to_string_pretty(v).unwrap())
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
    assert_eq!(check_dir("lab"), 35);
}
