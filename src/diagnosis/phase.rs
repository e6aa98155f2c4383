//! How far a connection got. Past the TLS handshake everything is encrypted, so the
//! later phases are read from the shape of the application-data records: CredSSP is a
//! handful of small records each way; the RDP connection sequence and the session are
//! many more.

use serde::Serialize;

use crate::conn::facts::TlsFacts;
use crate::conn::Connection;
use crate::flow::Side;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Tcp,
    X224,
    Tls,
    Nla,
    Rdp,
    Session,
    /// The server announced a logon (Save Session Info, read inside TLS with the keys).
    Logon,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Tcp => "tcp",
            Phase::X224 => "x224",
            Phase::Tls => "tls",
            Phase::Nla => "nla",
            Phase::Rdp => "rdp",
            Phase::Session => "session",
            Phase::Logon => "logon",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failed,
    Incomplete,
}

/// Records of CredSSP with NTLM: 3 from the client (negotiate, authenticate, credentials)
/// and 2 from the server (challenge, public-key echo). Kerberos needs fewer.
pub const CREDSSP_CLIENT_RECORDS: u64 = 3;
pub const CREDSSP_SERVER_RECORDS: u64 = 2;
/// Application-data records each way beyond the security handshake that mean the RDP
/// connection sequence (MCS, licensing, capabilities) ran to the session.
const SESSION_RECORDS: u64 = 4;

/// Application-data records per side that carry data after the TLS handshake. TLS 1.3
/// sends its own encrypted handshake (server flight, client Finished) as application
/// data; those are not counted.
pub fn post_handshake_records(t: &TlsFacts) -> [u64; 2] {
    let mut n = t.app_count;
    if t.is_tls13() {
        let first_client = t
            .app_records
            .iter()
            .find(|r| r.side == Side::Client)
            .map(|r| r.at.frame);
        let server_hs = t
            .app_records
            .iter()
            .filter(|r| r.side == Side::Server && first_client.is_none_or(|f| r.at.frame < f))
            .count() as u64;
        n[0] = n[0].saturating_sub(1);
        n[1] = n[1].saturating_sub(server_hs);
    }
    n
}

pub fn reached(c: &Connection) -> Phase {
    let f = &c.facts;
    if f.inside.session.logon.is_some() {
        return Phase::Logon;
    }
    if f.connect_response.is_some() {
        // Standard RDP security: the connection sequence is readable up to the session.
        return if f.session_start.is_some() {
            Phase::Session
        } else {
            Phase::Rdp
        };
    }
    if f.connect_initial.is_some() {
        return Phase::Rdp;
    }
    if f.tls.seen() || f.tls.app_count.iter().any(|n| *n > 0) {
        let [client, server] = post_handshake_records(&f.tls);
        let nla = f.selected_protocol().is_some_and(|p| p.is_nla());
        let (c_sec, s_sec) = if nla {
            (CREDSSP_CLIENT_RECORDS, CREDSSP_SERVER_RECORDS)
        } else {
            (0, 0)
        };
        if client > c_sec + SESSION_RECORDS && server > s_sec + SESSION_RECORDS {
            return Phase::Session;
        }
        // CredSSP is over once the server has answered it (challenge, public-key echo) and
        // the client has sent more than CredSSP needs.
        if client > c_sec && server >= s_sec {
            return Phase::Rdp;
        }
        if nla && client > 0 {
            return Phase::Nla;
        }
        return Phase::Tls;
    }
    if f.request.is_some() || f.confirm.is_some() {
        return Phase::X224;
    }
    Phase::Tcp
}
