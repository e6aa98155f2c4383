//! Helpers shared by the integration tests: run the real pipeline (libpcap and all) on a
//! fixture and get its JSON records.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::pipeline;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// All capture files directly under `fixtures/<dir>`, sorted.
pub fn captures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join(dir))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    v.sort();
    v
}

/// Records as JSON values, with the file path made relative so goldens do not depend
/// on where the repository is checked out.
pub fn analyze(path: &Path, cfg: &Config) -> Vec<serde_json::Value> {
    let filter = Filter::Ports(cfg.server_ports.clone());
    let res = pipeline::analyze_file(path, &filter, cfg, 1, &mut |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    res.records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("record serializes");
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            v["file"] = serde_json::Value::String(name);
            v
        })
        .collect()
}
