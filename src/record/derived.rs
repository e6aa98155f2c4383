//! Values several output formats derive from a record the same way: the cause finding, the
//! user name and where it was read, the RDP step reached.

use super::ConnectionRecord;
use crate::diagnosis::{Finding, Severity};

/// Where a record's user name was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    /// The NTLM/Kerberos user of CredSSP, read inside TLS with the keys.
    Nla,
    /// The Client Info PDU, read inside TLS with the keys.
    ClientInfo,
    /// The X.224 cookie (`mstshash=`), in the clear: what the client typed, often cut to 9
    /// characters by older clients.
    Cookie,
}

impl UserSource {
    pub fn name(self) -> &'static str {
        match self {
            UserSource::Nla => "nla",
            UserSource::ClientInfo => "client_info",
            UserSource::Cookie => "cookie",
        }
    }
}

/// How far the RDP exchange got, as one step (the OCSF RDP Activity ids follow these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RdpStep {
    /// No X.224 request was seen (TCP only, a proxy exchange, RDP-UDP).
    None,
    InitialRequest,
    InitialResponse,
    TlsHandshake,
    ConnectRequest,
    ConnectResponse,
    /// An MCS Disconnect Provider Ultimatum was seen.
    Disconnect,
}

impl ConnectionRecord {
    /// The connection's cause: its first error finding.
    pub fn cause_finding(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.severity == Severity::Error)
    }

    /// The user name the wire showed, best source first (already redacted under --redact).
    pub fn user_name(&self) -> Option<(&str, UserSource)> {
        let nla = self
            .nla
            .as_ref()
            .and_then(|n| n.user.as_deref())
            .map(|u| (u, UserSource::Nla));
        let info = || {
            self.session
                .as_ref()
                .and_then(|s| s.user.as_deref())
                .map(|u| (u, UserSource::ClientInfo))
        };
        let cookie = || self.cookie.as_deref().map(|u| (u, UserSource::Cookie));
        nla.or_else(info).or_else(cookie).filter(|(u, _)| !u.is_empty())
    }

    /// The furthest RDP step the wire showed.
    pub fn rdp_step(&self) -> RdpStep {
        let session = self.session.as_ref();
        if session.is_some_and(|s| s.disconnect.is_some()) {
            return RdpStep::Disconnect;
        }
        let std = self.standard_security.as_ref();
        if std.is_some_and(|s| s.encryption_method.is_some()) {
            return RdpStep::ConnectResponse;
        }
        if std.is_some_and(|s| s.client_build.is_some()) || session.is_some_and(|s| s.client.is_some()) {
            return RdpStep::ConnectRequest;
        }
        if self.tls.as_ref().is_some_and(|t| t.client_hello_frame.is_some()) {
            return RdpStep::TlsHandshake;
        }
        if self.negotiation.response_frame.is_some() {
            return RdpStep::InitialResponse;
        }
        if self.negotiation.request_frame.is_some() {
            return RdpStep::InitialRequest;
        }
        RdpStep::None
    }
}
