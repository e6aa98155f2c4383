//! Totals over a run, shared by the text and JSON reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analyzer::Stats;
use crate::diagnosis::Outcome;
use crate::record::ConnectionRecord;

use super::rollup::{Rollups, Row};
use super::spray::Detection;

/// Rows per rollup unless `--top` says otherwise.
pub const DEFAULT_TOP: usize = 10;

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
    /// Chains of retried attempts told as one line each, those with the most attempts first.
    pub stories: Vec<String>,
    /// Stories let go of beyond the bound (`emit::retry::MAX_STORIES`), those with the fewest
    /// attempts first.
    pub stories_omitted: u64,
    /// The servers with the most failed connections (`--top N` rows).
    pub failures_by_server: Vec<Row>,
    /// The (cause, server) pairs with the most failed connections.
    pub failures_by_cause_server: Vec<Row>,
    /// The client addresses with the most failed connections.
    pub top_clients: Vec<Row>,
    /// The user names (NLA or Client Info when decrypted, else the cookie) with the most
    /// failed connections.
    pub top_users: Vec<Row>,
    /// A rollup table had more keys than it keeps: its counts are upper bounds (`error`).
    pub rollups_approximate: bool,
    /// `brute_force` and `password_spray` detections, in the order they opened.
    pub attacks: Vec<Detection>,
    /// Client addresses the detector let go of while still in their window (bound hit).
    pub attack_sources_evicted: u64,
    /// Failed connections in all, and the counting tables behind the rows.
    #[serde(skip)]
    pub rollups: Rollups,
    /// Rows per rollup and retry stories a text view shows (`--top N`).
    #[serde(skip)]
    pub top: usize,
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
        self.rollups.add(r);
    }

    /// Fill the rollup rows (`top` of each) from the counting tables.
    pub fn close(&mut self, top: usize) {
        self.top = top;
        self.failures_by_server = self.rollups.by_server(top);
        self.failures_by_cause_server = self.rollups.by_cause_server(top);
        self.top_clients = self.rollups.by_client(top);
        self.top_users = self.rollups.by_user(top);
        self.rollups_approximate = self.rollups.approximate();
    }
}
