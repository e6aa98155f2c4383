//! Kerberos evidence: the client's KDC refused it on port 88 shortly before this RDP
//! connection (a wrong password, an unknown or revoked account, clock skew): with NLA the
//! client then falls back to NTLM or gives up, and the KDC's error is the reason.

use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::conn::inside_facts::KRB_WINDOW_SECS;
use crate::proto::kerberos;

/// KDC_ERR_PREAUTH_REQUIRED: the normal first answer to an AS-REQ without pre-authentication.
const PREAUTH_REQUIRED: i32 = 25;

pub fn kdc_errors(ev: &Evidence<'_>, failed: bool, f: &mut Findings) {
    let errors: Vec<_> =
        ev.c.facts
            .inside
            .kerberos
            .iter()
            .filter(|e| e.code != PREAUTH_REQUIRED)
            .collect();
    let Some(first) = errors.first() else { return };
    let name = kerberos::error_name(first.code).unwrap_or("an unknown Kerberos error");
    let who = match (&first.user, &first.realm) {
        (Some(u), Some(r)) => format!(" for {u}@{r}"),
        (Some(u), None) => format!(" for {u}"),
        _ => String::new(),
    };
    f.add(
        "kerberos_error",
        if failed { Severity::Warning } else { Severity::Info },
        Phase::Nla,
        format!(
            "before this connection the KDC {} refused the client's Kerberos request{who}: {name} ({}): {}",
            first.kdc,
            first.code,
            kerberos::error_meaning(first.code).unwrap_or("see RFC 4120 §7.5.9")
        ),
        format!(
            "{} Kerberos error(s) from the KDC to this client on port 88 within {} s before the connection; without Kerberos, NLA falls back to NTLM (or fails)",
            errors.len(),
            KRB_WINDOW_SECS
        ),
        errors.iter().map(|e| e.at.frame).collect(),
        false,
        None,
    );
}
