//! Connections that ended by a close nobody else explains: resets and FINs before the
//! session, a server Disconnect Provider Ultimatum, and a server reset during the session.

use super::catalog::ClientError;
use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::flow::Side;
use crate::proto::mcs::domain::ultimatum_reason_name;

pub fn unexplained(ev: &Evidence<'_>, f: &mut Findings) {
    let phase = ev.phase;
    if phase >= Phase::Session {
        // mstsc ends every session with a RST of its own; a server reset with the client
        // still in the session is the abnormal case.
        let client_first = ev.closes.iter().position(|c| c.side == Side::Client);
        if let Some(r) = ev
            .closes
            .iter()
            .enumerate()
            .find(|(i, c)| c.side == Side::Server && c.rst && client_first.is_none_or(|cf| *i < cf))
        {
            f.add(
                "server_reset",
                Severity::Error,
                Phase::Session,
                "the server reset the connection during the session".into(),
                "the session was running; the reset came from the server's side with no close from the client before it".into(),
                vec![r.1.at.frame],
                false,
                Some(ClientError::Closed),
            );
        }
        return;
    }
    if let Some((at, Side::Server, reason)) = ev.c.facts.ultimatum {
        f.add(
            "server_closed",
            Severity::Error,
            phase,
            format!(
                "the server disconnected before the session started (MCS Disconnect Provider Ultimatum: {})",
                ultimatum_reason_name(reason)
            ),
            "standard RDP security: the server ended the connection sequence itself".into(),
            vec![at.frame],
            false,
            Some(ClientError::ServerDenied),
        );
        return;
    }
    let Some(first) = ev.first_close() else { return };
    let when = match phase {
        Phase::Tcp => "right after the TCP handshake",
        Phase::X224 => "during the X.224 negotiation",
        Phase::Tls => "during the TLS handshake",
        Phase::Nla => "during NLA (CredSSP)",
        Phase::Rdp | Phase::Session | Phase::Logon => "during the RDP connection sequence",
    };
    let last =
        ev.c.timeline
            .last_before_close
            .as_ref()
            .filter(|e| e.at.frame < first.at.frame);
    let after = last
        .map(|e| {
            format!(
                "; the last thing before it: {} (frame {})",
                e.kind.describe(),
                e.at.frame
            )
        })
        .unwrap_or_default();
    let frames: Vec<u64> = last.map(|e| e.at.frame).into_iter().chain([first.at.frame]).collect();
    match (first.side, first.rst) {
        (Side::Server, true) => f.add(
            "server_reset",
            Severity::Error,
            phase,
            format!("the server reset the connection {when}"),
            format!("an RST from the server's side{after}"),
            frames,
            false,
            Some(ClientError::ServerDenied),
        ),
        (Side::Server, false) => f.add(
            "server_closed",
            Severity::Error,
            phase,
            format!("the server closed the connection {when}"),
            format!("a FIN from the server{after}"),
            frames,
            false,
            Some(ClientError::ServerDenied),
        ),
        (Side::Client, true) => f.add(
            "client_reset",
            Severity::Error,
            phase,
            format!("the client reset the connection {when}"),
            format!("an RST from the client's side{after}"),
            frames,
            false,
            None,
        ),
        (Side::Client, false) => f.add(
            "client_closed",
            Severity::Error,
            phase,
            format!("the client closed the connection {when}"),
            format!("a FIN from the client{after}"),
            frames,
            false,
            None,
        ),
    }
}
