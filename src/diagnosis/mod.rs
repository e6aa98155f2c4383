//! From facts to a verdict: the phase a connection reached, its outcome, and the
//! findings that explain it, each citing its frames. Pure functions of a finished
//! connection. The first `error` finding is the connection's cause.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod catalog;
mod closes;
pub mod evidence;
mod findings;
mod gateway;
mod handshake;
mod inside;
mod kerberos;
mod network;
mod nla;
pub mod phase;
mod proxy;
mod tls;

use serde::Serialize;

pub use phase::{Outcome, Phase};

use crate::config::Config;
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use evidence::Evidence;
pub use findings::{ClientErrorRecord, Finding, Findings, Severity};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub phase_reached: Phase,
    pub outcome: Outcome,
    pub findings: Vec<Finding>,
    pub client_error: Option<ClientErrorRecord>,
}

pub fn diagnose(c: &Connection, cfg: &Config) -> Diagnosis {
    let ev = Evidence::new(c);
    let mut f = Findings::default();
    let mut https_ok = false;
    if let Some(g) = c.facts.https.as_deref() {
        // An HTTPS leg: TLS and the path are judged as for RDP, then the gateway's answers.
        tls::handshake(&ev, &mut f);
        if !f.has_error() {
            tls::certificate(&ev, &mut f);
        }
        if !f.has_error() {
            https_ok = gateway::judge(&ev, g, &mut f);
        }
        network::quality(&ev, cfg, false, &mut f);
    } else if !network::never_opened(&ev, &mut f) {
        gateway::via_gateway(&ev, &mut f);
        // A gateway that closed the channel (its session timer) ended the connection, at
        // whatever step the RDP server was.
        gateway::closed_by_gateway(&ev, &mut f);
        // Through a proxy, a refusal by the proxy comes before any RDP byte.
        if !proxy::judge(&ev, &mut f) {
            handshake::negotiation(&ev, &mut f);
        }
        if !f.has_error() {
            tls::handshake(&ev, &mut f);
        }
        if !f.has_error() {
            tls::certificate(&ev, &mut f);
        }
        if !f.has_error() {
            // With the session keys the server's own words decide; the shape is a fallback.
            inside::judge(&ev, &mut f);
        }
        if !f.has_error() {
            nla::credssp(&ev, &mut f);
        }
        kerberos::kdc_errors(
            &ev,
            f.has_error() || !ev.closes.is_empty() && ev.phase < Phase::Session,
            &mut f,
        );
        let before_quality = f.has_error();
        // A connection that ended before the session is a failure whatever the cause; the
        // path findings need to know that to weigh a black hole as the cause.
        let ended_early = ev.phase < Phase::Session && !ev.closes.is_empty();
        network::quality(&ev, cfg, ended_early && !before_quality, &mut f);
        if !f.has_error() {
            closes::unexplained(&ev, &mut f);
        }
    }
    let phase = match c.facts.https {
        // A leg reaches the session phase when its tunnel (or KDC answer) works; otherwise
        // TLS is as far as an HTTPS connection goes.
        Some(_) if https_ok => Phase::Session,
        Some(_) if ev.tls_done().is_some() => Phase::Tls,
        Some(_) => Phase::Tcp,
        None => ev.phase,
    };
    let incomplete = !f.has_error() && phase < Phase::Session && c.facts.https.is_none();
    if incomplete || c.midstream {
        capture_incomplete(&ev, &mut f);
    }
    let outcome = if f.has_error() {
        Outcome::Failed
    } else if phase >= Phase::Session {
        Outcome::Success
    } else {
        Outcome::Incomplete
    };
    let (findings, errors) = f.into_sorted();
    Diagnosis {
        phase_reached: phase,
        outcome,
        findings,
        client_error: told_client(c, outcome).or_else(|| {
            errors.first().map(|e| ClientErrorRecord {
                code: e.code().into(),
                meaning: e.meaning().into(),
                inferred: true,
            })
        }),
    }
}

/// The error the server told a failed connection's client (Set Error Info, read inside TLS):
/// the "extended error" a Windows client shows, by name.
fn told_client(c: &Connection, outcome: Outcome) -> Option<ClientErrorRecord> {
    if outcome != Outcome::Failed {
        return None;
    }
    let (_, code) = c.facts.inside.session.error_info.first().copied()?;
    let name = crate::proto::errinfo::name(code).unwrap_or("an unknown errorInfo");
    Some(ClientErrorRecord {
        code: format!("0x{code:X}"),
        meaning: format!(
            "{name}: {}",
            crate::proto::errinfo::meaning(code).unwrap_or("not in MS-RDPBCGR 2.2.5.1.1")
        ),
        inferred: false,
    })
}

fn capture_incomplete(ev: &Evidence<'_>, f: &mut Findings) {
    let c = ev.c;
    let (summary, frames) = if c.midstream {
        (
            "the capture began after this connection started: its start is not visible".to_string(),
            vec![c.first.frame],
        )
    } else if c.evicted {
        (
            "the connection was evicted from the full flow table before it ended".to_string(),
            vec![c.last.frame],
        )
    } else {
        (
            format!(
                "the capture ended before the outcome was known (last packet at phase {})",
                ev.phase.name()
            ),
            vec![c.last.frame],
        )
    };
    f.add(
        "capture_incomplete",
        Severity::Warning,
        ev.phase,
        summary,
        String::new(),
        frames,
        false,
        None,
    );
}

/// RDP-UDP is a side channel: an unanswered handshake does not fail the connection
/// (the client stays on TCP), so it is information and the flow's outcome is incomplete.
pub fn diagnose_udp(u: &UdpFlow) -> Diagnosis {
    let mut f = Findings::default();
    let established = u.synack.is_some() || (u.midstream && u.datagrams[1] > 0);
    if !established && u.syns > 0 {
        let first = u.first_syn.as_ref().map_or(u.first.frame, |(at, _)| at.frame);
        f.add(
            "udp_unanswered",
            Severity::Info,
            Phase::Tcp,
            format!(
                "{} RDP-UDP SYN datagrams got no SYN+ACK: UDP is blocked, the client falls back to TCP",
                u.syns
            ),
            String::new(),
            vec![first, u.last.frame],
            false,
            None,
        );
    }
    if u.midstream {
        f.add(
            "capture_incomplete",
            Severity::Warning,
            Phase::Tcp,
            "the capture began after this RDP-UDP flow started".into(),
            String::new(),
            vec![u.first.frame],
            false,
            None,
        );
    }
    let (findings, _) = f.into_sorted();
    Diagnosis {
        phase_reached: if established { Phase::Session } else { Phase::Tcp },
        outcome: if established {
            Outcome::Success
        } else {
            Outcome::Incomplete
        },
        findings,
        client_error: None,
    }
}
