//! NLA (CredSSP) findings. CredSSP travels inside TLS, so without keys the reason is not
//! visible: who ends the exchange, and when, is the evidence, and the finding says it
//! is an inference.

use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use super::phase::{CREDSSP_CLIENT_RECORDS, CREDSSP_SERVER_RECORDS};
use crate::flow::Side;

/// The Early User Authorization Result is 4 bytes; with record overhead it stays small.
const EARLY_AUTH_RECORD_MAX: u16 = 64;
/// A TSRequest with only version and errorCode is about 15 bytes; with TLS 1.2 AES-GCM
/// overhead (24) it makes a 39-byte record. A pubKeyAuth answer is 70 bytes or more.
const ERROR_TSREQUEST_RECORD_MAX: u16 = 56;

pub fn credssp(ev: &Evidence<'_>, f: &mut Findings) {
    if !ev.nla || ev.phase >= Phase::Rdp || ev.tls_done().is_none() {
        return;
    }
    let t = &ev.c.facts.tls;
    let [client, server] = ev.post_handshake;
    let server_alert = t
        .alerts
        .iter()
        .find(|a| a.side == Side::Server && a.encrypted && ev.tls_done().is_some_and(|d| a.at.frame > d.frame));
    let close = ev.first_close();
    let first_client = t
        .app_records
        .iter()
        .find(|r| r.side == Side::Client)
        .map(|r| r.at.frame);
    let last_server = t.app_records.iter().rev().find(|r| r.side == Side::Server);
    let mut frames: Vec<u64> = first_client.into_iter().collect();
    // The server ended CredSSP: an encrypted alert (TLS ≤ 1.2 close_notify or error), FIN or RST.
    let server_end = match (server_alert, close) {
        (Some(a), c) if c.is_none_or(|c| a.at.frame <= c.at.frame) => Some((a.at.frame, "an encrypted alert")),
        (_, Some(c)) if c.side == Side::Server => Some((c.at.frame, c.what())),
        _ => None,
    };
    if let Some((end, how)) = server_end {
        let small_last = last_server.is_some_and(|r| r.len <= EARLY_AUTH_RECORD_MAX);
        if ev.hybrid_ex && client >= CREDSSP_CLIENT_RECORDS && server > CREDSSP_SERVER_RECORDS && small_last {
            frames.extend(last_server.map(|r| r.at.frame));
            frames.push(end);
            f.add(
                "early_auth_denied",
                Severity::Error,
                Phase::Nla,
                format!("CredSSP completed, then the server sent a small record and closed ({how}): the user may not log on remotely"),
                "HYBRID_EX: the small record is the Early User Authorization Result; a close instead of the MCS exchange means access denied (inferred)".into(),
                frames,
                true,
                Some(super::catalog::ClientError::ServerDenied),
            );
            return;
        }
        frames.extend(last_server.map(|r| r.at.frame));
        frames.push(end);
        f.add(
            "nla_failed",
            Severity::Error,
            Phase::Nla,
            format!(
                "NLA failed: the server ended CredSSP ({how}) after {client} client and {server} server records, before any RDP data"
            ),
            "authentication refused: wrong password, unknown or locked user, or no right to log on remotely (inferred: CredSSP is encrypted; a TLS key log would show the server's error code)".into(),
            frames,
            true,
            None,
        );
        return;
    }
    if let Some(c) = close.filter(|c| c.side == Side::Client) {
        // The server's last word came after the client's credentials and is the size of a
        // TSRequest holding only an errorCode (accepting servers answer with pubKeyAuth, much
        // larger): the server refused, and the client closed in response. Learnt from real
        // Windows captures whose keys show errorCode 0xC000006E at exactly this point.
        let last_client = t.app_records.iter().rev().find(|r| r.side == Side::Client);
        let refused = match (last_client, last_server) {
            (Some(lc), Some(ls)) => {
                client >= 2
                    && ls.at.frame > lc.at.frame
                    && ls.at.frame < c.at.frame
                    && ls.len <= ERROR_TSREQUEST_RECORD_MAX
            }
            _ => false,
        };
        if refused {
            frames.extend(last_server.map(|r| r.at.frame));
            frames.push(c.at.frame);
            f.add(
                "nla_failed",
                Severity::Error,
                Phase::Nla,
                format!(
                    "NLA failed: the server answered the client's credentials with a short CredSSP message ({} B, the size of an error code), then the client closed ({})",
                    last_server.map_or(0, |r| r.len),
                    c.what()
                ),
                "authentication refused: wrong password, unknown or locked user, NTLM refused (e.g. Protected Users), or no right to log on remotely (inferred: CredSSP is encrypted; a TLS key log would show the server's error code)".into(),
                frames,
                true,
                None,
            );
            return;
        }
        frames.push(c.at.frame);
        f.add(
            "nla_client_abort",
            Severity::Error,
            Phase::Nla,
            format!("the client ended CredSSP ({}) after {client} of its records, before any RDP data", c.what()),
            "the client gave up on NLA: a cancelled credential prompt, a rejected server identity, or a CredSSP policy mismatch (inferred)".into(),
            frames,
            true,
            None,
        );
    }
}
