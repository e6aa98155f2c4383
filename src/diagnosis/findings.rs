//! What a rule reports: a finding with its severity and frames, and the list the rules
//! add to (the first error is the cause).

use serde::Serialize;

use super::catalog::{self, ClientError};
use super::phase::Phase;

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
    /// What a Windows client most likely showed (always an inference).
    pub client_error: Option<&'static str>,
    pub remedy: &'static str,
}

/// The error a Windows client most likely showed for the whole connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientErrorRecord {
    pub code: String,
    pub meaning: String,
    /// False when read from the wire (the Set Error Info PDU the client received).
    pub inferred: bool,
}

/// Findings in the order the rules found them.
#[derive(Default)]
pub struct Findings {
    v: Vec<Finding>,
    client_errors: Vec<ClientError>,
}

impl Findings {
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        code: &'static str,
        severity: Severity,
        phase: Phase,
        summary: String,
        detail: String,
        frames: Vec<u64>,
        inferred: bool,
        client_error: Option<ClientError>,
    ) {
        self.add_keyed(
            code,
            code,
            severity,
            phase,
            summary,
            detail,
            frames,
            inferred,
            client_error,
        );
    }

    /// Like `add`, with the remedy looked up under `remedy_key` (e.g. `negotiation_failure:5`).
    #[allow(clippy::too_many_arguments)]
    pub fn add_keyed(
        &mut self,
        code: &'static str,
        remedy_key: &str,
        severity: Severity,
        phase: Phase,
        summary: String,
        detail: String,
        mut frames: Vec<u64>,
        inferred: bool,
        client_error: Option<ClientError>,
    ) {
        if self.v.iter().any(|f| f.code == code) {
            return;
        }
        frames.sort_unstable();
        frames.dedup();
        if severity == Severity::Error {
            if let Some(e) = client_error {
                self.client_errors.push(e);
            }
        }
        self.v.push(Finding {
            code,
            severity,
            phase,
            summary,
            detail,
            frames,
            inferred,
            client_error: client_error.map(ClientError::code),
            remedy: catalog::remedy(remedy_key),
        });
        debug_assert!(
            !catalog::remedy(remedy_key).is_empty(),
            "finding {code} has no remedy in the catalogue"
        );
    }

    pub fn has_error(&self) -> bool {
        self.v.iter().any(|f| f.severity == Severity::Error)
    }

    pub(super) fn into_sorted(mut self) -> (Vec<Finding>, Vec<ClientError>) {
        // Errors first (in rule order: the first is the cause), then warnings, then info.
        self.v.sort_by_key(|f| match f.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        });
        (self.v, self.client_errors)
    }
}
