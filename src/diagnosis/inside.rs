//! Findings read inside TLS with the session keys: what the server said, not an inference.
//! The CredSSP errorCode, the Early User Authorization Result, logon errors, licensing, and
//! the Set Error Info code that is the "extended error" a Windows client shows.

use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::conn::inside_facts::LicenseOutcome;
use crate::flow::Side;
use crate::proto::credssp::EarlyUserAuthResult;
use crate::proto::errinfo::{self, Category};
use crate::proto::ntstatus;

/// The rules, in the order a connection meets them. Each adds at most one finding.
pub fn judge(ev: &Evidence<'_>, f: &mut Findings) {
    let i = &ev.c.facts.inside;
    let nla = &i.nla;
    let who = user_of(ev);
    if let Some((at, code)) = nla.error {
        let name = ntstatus::name(code).unwrap_or("an unknown status");
        let meaning = ntstatus::meaning(code).unwrap_or("see the server's Security event log");
        let key = format!("nla_failed:0x{code:08X}");
        let mut frames: Vec<u64> = nla.last_ts_request[0].map(|a| a.frame).into_iter().collect();
        frames.push(at.frame);
        f.add_keyed(
            "nla_failed",
            &key,
            Severity::Error,
            Phase::Nla,
            format!("NLA failed: the server refused the credentials{who} with {name} (0x{code:08X}): {meaning}"),
            format!(
                "read inside TLS: the server's CredSSP TSRequest carries errorCode 0x{code:08X}{}",
                nla.mechanism
                    .map(|m| format!("; mechanism {}", m.name()))
                    .unwrap_or_default()
            ),
            frames,
            false,
            None,
        );
        return;
    }
    // The credentials went out and the server closed without a reason code and without the
    // public-key answer that accepts them (FreeRDP and xrdp servers send no errorCode).
    if let Some(cred) = nla
        .credentials
        .filter(|c| nla.last_ts_request[1].is_none_or(|s| s.frame < c.frame))
    {
        let server_end =
            ev.c.facts
                .tls
                .alerts
                .iter()
                .find(|a| a.side == Side::Server && a.at.frame > cred.frame)
                .map(|a| (a.at.frame, "a TLS alert"))
                .or_else(|| {
                    ev.first_close()
                        .filter(|c| c.side == Side::Server && c.at.frame > cred.frame)
                        .map(|c| (c.at.frame, c.what()))
                });
        if let (Some((end, how)), false) = (server_end, i.session.seen()) {
            f.add(
                "nla_failed",
                Severity::Error,
                Phase::Nla,
                format!("NLA failed: the server ended CredSSP ({how}) right after the client's credentials{who}, without an error code"),
                "read inside TLS: the client's credentials message, then no TSRequest from the server (neither the public-key answer that accepts them nor an errorCode); that the credentials were refused is inferred (this server gives no reason; its log does)".into(),
                vec![cred.frame, end],
                true,
                None,
            );
            return;
        }
    }
    if let Some((at, EarlyUserAuthResult::AccessDenied)) = nla.early_user_auth {
        f.add(
            "early_auth_denied",
            Severity::Error,
            Phase::Nla,
            format!("the credentials{who} were accepted, but the server denied the logon: Early User Authorization Result ACCESS_DENIED"),
            "read inside TLS (HYBRID_EX)".into(),
            vec![at.frame],
            false,
            Some(super::catalog::ClientError::ServerDenied),
        );
        return;
    }
    let s = &i.session;
    if let Some((at, e)) = s.logon_errors.iter().find(|(_, e)| e.notification_data != 3) {
        f.add(
            "logon_failed",
            Severity::Error,
            Phase::Session,
            format!(
                "the logon{who} failed on the server: {} ({})",
                e.data_name().unwrap_or("an unknown logon failure"),
                e.type_name().unwrap_or("unknown type")
            ),
            "read inside TLS: a Save Session Info PDU with logon errors".into(),
            vec![at.frame],
            false,
            None,
        );
        return;
    }
    if let Some((at, LicenseOutcome::Error(code, st))) = s.license {
        f.add(
            "license_failed",
            Severity::Error,
            Phase::Rdp,
            format!(
                "licensing failed: the server sent {} ({}), state transition {}",
                code.name(),
                format_args!("0x{:02X}", code.code()),
                st.name()
            ),
            "read inside TLS: a licensing Error Alert other than STATUS_VALID_CLIENT".into(),
            vec![at.frame],
            false,
            None,
        );
        return;
    }
    if let Some((at, code)) = s.error_info.first().copied() {
        let name = errinfo::name(code).unwrap_or("an unknown errorInfo");
        let meaning = errinfo::meaning(code).unwrap_or("not in MS-RDPBCGR 2.2.5.1.1");
        let cat = errinfo::category(code);
        let (fcode, severity) = match cat {
            Some(Category::Denied) => ("server_denied", Severity::Error),
            Some(Category::UserInitiated | Category::None) => ("disconnected", Severity::Info),
            _ => ("disconnected", Severity::Error),
        };
        let phase = if s.demand_active.is_some() {
            Phase::Session
        } else {
            Phase::Rdp
        };
        f.add(
            fcode,
            severity,
            phase,
            format!(
                "the server ended the connection with Set Error Info {name} (extended error 0x{code:X}): {meaning}"
            ),
            format!("read inside TLS; {}", cat.map_or("category unknown", |c| c.name())),
            vec![at.frame],
            false,
            None,
        );
    }
    // The session came up (Demand Active) but the server ended it in order (FIN, ultimatum,
    // Deactivate All) before any logon notification: e.g. a Restricted Admin logon refused.
    if !f.has_error() && s.logon.is_none() && s.logon_errors.is_empty() && s.redirect.is_none() {
        if let Some(da) = s.demand_active {
            let ultimatum =
                ev.c.facts
                    .ultimatum
                    .filter(|(_, side, _)| *side == Side::Server)
                    .map(|(at, _, _)| (at, "an MCS Disconnect Provider Ultimatum"));
            let fin = ev
                .first_close()
                .filter(|c| c.side == Side::Server && !c.rst)
                .map(|c| (c.at, "a FIN"));
            let deact = s.deactivate_all.map(|at| (at, "Deactivate All"));
            let server_first = ev.first_close().is_none_or(|c| c.side == Side::Server);
            if let Some((end, how)) = ultimatum.or(deact).or(fin).filter(|_| server_first) {
                f.add(
                    "logon_not_completed",
                    Severity::Error,
                    Phase::Session,
                    format!("the session started, but the server ended it ({how}) before announcing a logon{who}"),
                    "read inside TLS: Demand Active, then no Save Session Info logon notification before the server's end; that the logon was refused is inferred (some servers announce no logon at all)".into(),
                    vec![da.frame, end.frame],
                    true,
                    None,
                );
            }
        }
    }
    if let Some((at, r)) = &s.redirect {
        f.add(
            "redirected",
            Severity::Info,
            Phase::Rdp,
            format!(
                "the server redirected the client{}",
                r.target_net_address.as_deref().map(|t| format!(" to {t}")).unwrap_or_default()
            ),
            "read inside TLS: a Server Redirection PDU (a connection broker sends the client to the host of its session); the follow-up connection is a new one".into(),
            vec![at.frame],
            false,
            None,
        );
    }
}

/// " for DOMAIN\user" from NTLM or the Client Info PDU, if known.
fn user_of(ev: &Evidence<'_>) -> String {
    let i = &ev.c.facts.inside;
    let (user, domain) = match (&i.nla.user, &i.session.client_info) {
        (Some(u), _) => (u.as_str(), i.nla.domain.as_deref().unwrap_or("")),
        (None, Some((_, u, d))) => (u.as_str(), d.as_str()),
        _ => return String::new(),
    };
    match (domain, user) {
        (_, "") => String::new(),
        ("", u) => format!(" for {u}"),
        (d, u) => format!(" for {d}\\{u}"),
    }
}
