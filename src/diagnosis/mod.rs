//! From facts to a verdict: the phase a connection reached, its outcome, and the
//! findings that explain it. Pure functions of a finished connection.

pub mod phase;

use serde::Serialize;

pub use phase::{Outcome, Phase};

use crate::config::Config;
use crate::conn::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// One explained observation, with the frames that show it (docs/findings.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub phase: Phase,
    pub summary: String,
    pub detail: String,
    pub frames: Vec<u64>,
    pub inferred: bool,
    pub client_error: Option<String>,
    pub remedy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub phase_reached: Phase,
    pub outcome: Outcome,
    pub findings: Vec<Finding>,
}

pub fn diagnose(c: &Connection, _cfg: &Config) -> Diagnosis {
    let phase_reached = phase::reached(c);
    let outcome = phase::outcome(c, phase_reached);
    Diagnosis {
        phase_reached,
        outcome,
        findings: Vec::new(),
    }
}
