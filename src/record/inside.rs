//! The record's objects for what was read inside TLS with the session keys: `decryption`,
//! `nla` (CredSSP) and `session` (the RDP connection sequence). All `null` without keys.
//! Names as the wire said them (subject to `--redact`); never a credential.

use serde::Serialize;

use crate::conn::inside_facts::{InsideFacts, LicenseOutcome};
use crate::proto::{errinfo, ntstatus};

use super::SideCount;

#[derive(Debug, Clone, Serialize)]
pub struct DecryptionRecord {
    /// `capture` (a Decryption Secrets Block in the file) or `keylog` (`--keylog`).
    pub keys: &'static str,
    pub records: SideCount,
    /// Why decryption stopped, e.g. `bad_record_mac` (a wrong key, or a record missing from
    /// the capture), `unsupported_cipher_suite`; `null` if every record was decrypted.
    pub stopped: Option<String>,
}

/// A status code with its name: `{"code": "0xC000006E", "name": "STATUS_ACCOUNT_RESTRICTION", "frame": 19}`.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRecord {
    pub code: String,
    pub name: Option<&'static str>,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EarlyAuthRecord {
    pub result: &'static str,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NlaRecord {
    /// `ntlm`, `kerberos`, `kerberos_u2u`, or `unknown`.
    pub mechanism: &'static str,
    pub credssp_version: Option<u32>,
    pub user: Option<String>,
    pub domain: Option<String>,
    pub workstation: Option<String>,
    /// The Kerberos service principal the client asked a ticket for (`TERMSRV/host`).
    pub service: Option<String>,
    pub realm: Option<String>,
    pub error: Option<CodeRecord>,
    pub early_user_auth: Option<EarlyAuthRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientRecord {
    pub build: Option<u32>,
    /// The Windows release that sends this build (what the build says; FreeRDP sends 18363).
    pub version: Option<&'static str>,
    pub name: Option<String>,
    /// clientDigProductId, when the client sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dig_product_id: Option<String>,
    pub desktop: Option<String>,
    pub keyboard_layout: Option<u32>,
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LicenseRecord {
    /// `valid_client`, `issued` or `error`.
    pub result: &'static str,
    pub code: Option<String>,
    pub name: Option<&'static str>,
    /// The Error Alert's state transition (what the client is told to do next).
    pub state_transition: Option<&'static str>,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogonRecord {
    pub frame: u64,
    /// The Save Session Info type, e.g. `INFOTYPE_LOGON_LONG`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogonErrorRecord {
    pub frame: u64,
    /// ErrorNotificationType: LOGON_MSG_* or an NTSTATUS name (hex when unknown).
    #[serde(rename = "type")]
    pub kind: String,
    /// ErrorNotificationData: LOGON_FAILED_* / LOGON_WARNING (hex when unknown).
    pub data: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisconnectRecord {
    /// The MCS Disconnect Provider Ultimatum reason.
    pub reason: &'static str,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedirectRecord {
    pub frame: u64,
    /// When the PDU was sent (not part of the JSON): the follow-up connection starts after.
    #[serde(skip)]
    pub at: crate::ts::Ts,
    pub target: Option<String>,
    pub load_balance_info_bytes: Option<usize>,
    pub user: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRecord {
    pub client: Option<ClientRecord>,
    /// From the Client Info PDU.
    pub user: Option<String>,
    pub domain: Option<String>,
    pub license: Option<LicenseRecord>,
    pub logon: Option<LogonRecord>,
    pub logon_errors: Vec<LogonErrorRecord>,
    /// Set Error Info PDUs: the "extended error" the client shows.
    pub error_info: Vec<CodeRecord>,
    pub disconnect: Option<DisconnectRecord>,
    /// Shutdown Request (the client asks to end) or Shutdown Denied (the server refuses).
    pub shutdown: Option<ShutdownRecord>,
    pub redirect: Option<RedirectRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShutdownRecord {
    pub from: crate::flow::Side,
    pub denied: bool,
    pub frame: u64,
}

/// A Kerberos error the client's KDC sent on port 88 shortly before this connection.
#[derive(Debug, Clone, Serialize)]
pub struct KerberosRecord {
    pub frame: u64,
    pub kdc: crate::flow::Endpoint,
    pub message: &'static str,
    pub error: Option<KrbCodeRecord>,
    pub user: Option<String>,
    pub realm: Option<String>,
    pub service: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KrbCodeRecord {
    pub code: i32,
    pub name: Option<&'static str>,
}

pub fn kerberos(f: &InsideFacts) -> Vec<KerberosRecord> {
    f.kerberos
        .iter()
        .map(|e| KerberosRecord {
            frame: e.at.frame,
            kdc: e.kdc,
            message: "KRB-ERROR",
            error: Some(KrbCodeRecord {
                code: e.code,
                name: crate::proto::kerberos::error_name(e.code),
            }),
            user: e.user.clone(),
            realm: e.realm.clone(),
            service: e.service.clone(),
        })
        .collect()
}

pub fn hex32(c: u32) -> String {
    format!("0x{c:08X}")
}

pub fn decryption(f: &InsideFacts) -> Option<DecryptionRecord> {
    let d = f.decryption.as_ref()?;
    Some(DecryptionRecord {
        keys: d.keys.name(),
        records: SideCount {
            client: d.records[0],
            server: d.records[1],
        },
        stopped: d.stopped.map(|(side, why)| format!("{why} ({} records)", side.name())),
    })
}

pub fn nla(f: &InsideFacts) -> Option<NlaRecord> {
    let n = &f.nla;
    if !n.seen() {
        return None;
    }
    Some(NlaRecord {
        mechanism: n.mechanism.map_or("unknown", |m| m.name()),
        credssp_version: n.credssp_version,
        user: n.user.clone(),
        domain: n.domain.clone(),
        workstation: n.workstation.clone(),
        service: n.service.clone(),
        realm: n.realm.clone(),
        error: n.error.map(|(at, c)| CodeRecord {
            code: hex32(c),
            name: ntstatus::name(c),
            frame: at.frame,
        }),
        early_user_auth: n.early_user_auth.map(|(at, r)| EarlyAuthRecord {
            result: match r {
                crate::proto::credssp::EarlyUserAuthResult::Success => "success",
                crate::proto::credssp::EarlyUserAuthResult::AccessDenied => "access_denied",
                crate::proto::credssp::EarlyUserAuthResult::Other(_) => "other",
            },
            frame: at.frame,
        }),
    })
}

pub fn session(f: &InsideFacts, ultimatum: Option<(u64, u8)>) -> Option<SessionRecord> {
    let s = &f.session;
    if !s.seen() {
        return None;
    }
    Some(SessionRecord {
        client: s.client_core.as_ref().map(|c| ClientRecord {
            build: Some(c.client_build),
            version: crate::proto::mcs::builds::windows_release(c.client_build),
            name: Some(c.client_name.clone()),
            dig_product_id: c.dig_product_id.clone(),
            desktop: Some(format!("{}x{}", c.desktop_width, c.desktop_height)),
            keyboard_layout: Some(c.keyboard_layout),
            channels: s.channels.clone(),
        }),
        user: s.client_info.as_ref().map(|(_, u, _)| u.clone()),
        domain: s.client_info.as_ref().map(|(_, _, d)| d.clone()),
        license: s.license.map(|(at, o)| match o {
            LicenseOutcome::ValidClient => LicenseRecord {
                result: "valid_client",
                code: Some(hex32(0x07)),
                name: Some("STATUS_VALID_CLIENT"),
                state_transition: None,
                frame: at.frame,
            },
            LicenseOutcome::Issued => LicenseRecord {
                result: "issued",
                code: None,
                name: None,
                state_transition: None,
                frame: at.frame,
            },
            LicenseOutcome::Error(code, st) => LicenseRecord {
                result: "error",
                code: Some(hex32(code.code())),
                name: Some(code.name()),
                state_transition: Some(st.name()),
                frame: at.frame,
            },
        }),
        logon: s.logon.map(|(at, kind)| LogonRecord { frame: at.frame, kind }),
        logon_errors: s
            .logon_errors
            .iter()
            .map(|(at, e)| LogonErrorRecord {
                frame: at.frame,
                kind: e.type_name().map_or_else(|| hex32(e.notification_type), str::to_string),
                data: e.data_name().map_or_else(|| hex32(e.notification_data), str::to_string),
            })
            .collect(),
        error_info: s
            .error_info
            .iter()
            .map(|(at, c)| CodeRecord {
                code: hex32(*c),
                name: errinfo::name(*c),
                frame: at.frame,
            })
            .collect(),
        disconnect: ultimatum.map(|(frame, reason)| DisconnectRecord {
            reason: crate::proto::mcs::domain::ultimatum_reason_name(reason),
            frame,
        }),
        shutdown: s.shutdown.map(|(at, from, denied)| ShutdownRecord {
            from,
            denied,
            frame: at.frame,
        }),
        redirect: s.redirect.as_ref().map(|(at, r)| RedirectRecord {
            frame: at.frame,
            at: at.ts,
            target: r.target_net_address.clone(),
            load_balance_info_bytes: r.load_balance_info_len,
            user: r.user_name.clone(),
            domain: r.domain.clone(),
        }),
    })
}
