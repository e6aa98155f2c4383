//! Every lab capture shows the failure class its scenario was built to produce
//! (fixtures/lab/scenarios.tsv), on top of the exact snapshot in tests/golden.rs.

mod common;

use rdpscope::config::Config;

#[test]
fn each_lab_scenario_produces_its_class() {
    let lab = common::root().join("fixtures/lab");
    let Ok(tsv) = std::fs::read_to_string(lab.join("scenarios.tsv")) else {
        panic!("fixtures/lab/scenarios.tsv is missing");
    };
    let mut n = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, class) = (cols[0], cols[2]);
        let records = common::analyze(&lab.join(format!("{name}.pcap")), &Config::default());
        assert!(!records.is_empty(), "{name}: no connection");
        if class == "success" {
            assert!(
                records.iter().all(|r| r["outcome"] == "success"),
                "{name}: expected every connection to succeed"
            );
        } else {
            let has = records
                .iter()
                .any(|r| r["findings"].as_array().unwrap().iter().any(|f| f["code"] == class));
            assert!(has, "{name}: no {class} finding");
        }
        n += 1;
    }
    assert!(n >= 20, "only {n} scenarios");
}
