//! Totals over a run, shared by the text and JSON reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analyzer::Stats;
use crate::diagnosis::Outcome;
use crate::record::ConnectionRecord;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub files: Vec<FileSummary>,
    pub connections: u64,
    pub success: u64,
    pub failed: u64,
    pub incomplete: u64,
    /// Failed connections by the code of their cause.
    pub failures_by_cause: BTreeMap<String, u64>,
    /// Chains of retried attempts told as one line each.
    pub stories: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FileSummary {
    pub file: String,
    /// The file's format ("pcap", "pcapng", "netmon1", "netmon2"); null when unreadable.
    pub format: Option<&'static str>,
    pub frames: u64,
    pub frames_analyzed: u64,
    pub stats: Stats,
    /// Why reading stopped early (truncated or corrupt file), if it did.
    pub warning: Option<String>,
    /// Why the file could not be read at all.
    pub error: Option<String>,
}

impl Summary {
    pub fn new() -> Summary {
        Summary {
            kind: "summary",
            ..Default::default()
        }
    }

    pub fn add(&mut self, r: &ConnectionRecord) {
        self.connections += 1;
        match r.outcome {
            Outcome::Success => self.success += 1,
            Outcome::Failed => {
                self.failed += 1;
                *self.failures_by_cause.entry(r.cause().to_string()).or_default() += 1;
            }
            Outcome::Incomplete => self.incomplete += 1,
        }
    }
}
