//! What was read inside TLS with the session keys: the decryption itself, CredSSP (NLA) and
//! the RDP connection sequence after it. Parsed values only; every user-visible name here is
//! subject to `--redact`, and no credential is ever kept (the decoders skip them by length).

use crate::decrypt::KeySource;
use crate::flow::tcp::At;
use crate::flow::{Endpoint, Side};
use crate::proto::credssp::EarlyUserAuthResult;
use crate::proto::mcs::ClientCore;
use crate::proto::rdp::license::{LicenseErrorCode, StateTransition};
use crate::proto::rdp::share::{LogonError, Redirection};

/// Error Info PDUs remembered per connection (a server sends one or two).
pub const MAX_ERROR_INFOS: usize = 8;

/// How long before an RDP connection a Kerberos error from the client's KDC still counts as
/// its evidence.
pub const KRB_WINDOW_SECS: i64 = 120;

/// A KRB-ERROR a KDC sent to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbErrorSeen {
    pub at: At,
    pub kdc: Endpoint,
    pub code: i32,
    /// The client principal and realm, and the service asked for, as the error names them.
    pub user: Option<String>,
    pub realm: Option<String>,
    pub service: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InsideFacts {
    /// Set once a key matched this connection.
    pub decryption: Option<DecryptionFacts>,
    pub nla: NlaFacts,
    pub session: SessionFacts,
    /// Errors the client's KDC sent on port 88 shortly before (or during) this connection:
    /// filled in by the analyzer when the connection ends.
    pub kerberos: Vec<KrbErrorSeen>,
}

#[derive(Debug, Clone)]
pub struct DecryptionFacts {
    pub keys: KeySource,
    /// Records decrypted per side.
    pub records: [u64; 2],
    /// Why decryption stopped for a side, if it did (`decrypt::Stop::kind`).
    pub stopped: Option<(Side, &'static str)>,
}

/// The authentication mechanism CredSSP carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Ntlm,
    Kerberos,
    KerberosU2u,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Ntlm => "ntlm",
            Mechanism::Kerberos => "kerberos",
            Mechanism::KerberosU2u => "kerberos_u2u",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NlaFacts {
    /// TSRequests read per side.
    pub ts_requests: [u32; 2],
    pub credssp_version: Option<u32>,
    pub mechanism: Option<Mechanism>,
    /// NTLM AUTHENTICATE: user, domain, workstation.
    pub user: Option<String>,
    pub domain: Option<String>,
    pub workstation: Option<String>,
    /// Kerberos AP-REQ: the service principal (e.g. `TERMSRV/host`) and its realm.
    pub service: Option<String>,
    pub realm: Option<String>,
    /// The server's TSRequest errorCode (an NTSTATUS or SEC_E_* value).
    pub error: Option<(At, u32)>,
    /// HYBRID_EX: the Early User Authorization Result.
    pub early_user_auth: Option<(At, EarlyUserAuthResult)>,
    /// The last TSRequest of each side (the server's answer to the credentials).
    pub last_ts_request: [Option<At>; 2],
    /// The client's credentials message: NTLM AUTHENTICATE or Kerberos AP-REQ.
    pub credentials: Option<At>,
}

impl NlaFacts {
    pub fn seen(&self) -> bool {
        self.ts_requests != [0, 0] || self.early_user_auth.is_some()
    }
}

/// How licensing ended (MS-RDPELE via MS-RDPBCGR 2.2.1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseOutcome {
    /// Error Alert with STATUS_VALID_CLIENT: nothing more needed.
    ValidClient,
    /// The server issued or upgraded a license.
    Issued,
    /// Error Alert with any other code.
    Error(LicenseErrorCode, StateTransition),
}

#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// Client Core Data of the MCS Connect Initial inside TLS.
    pub client_core: Option<ClientCore>,
    pub channels: Vec<String>,
    pub connect_response: Option<(At, u8)>,
    /// Client Info PDU: user and domain (never the password).
    pub client_info: Option<(At, String, String)>,
    pub license: Option<(At, LicenseOutcome)>,
    pub demand_active: Option<At>,
    pub confirm_active: Option<At>,
    pub deactivate_all: Option<At>,
    /// Save Session Info with a logon notification: when and which kind.
    pub logon: Option<(At, &'static str)>,
    pub logon_errors: Vec<(At, LogonError)>,
    /// Set Error Info PDUs with a non-zero code, in order (bounded).
    pub error_info: Vec<(At, u32)>,
    pub shutdown: Option<(At, Side, bool)>,
    pub redirect: Option<(At, Redirection)>,
    /// PDUs read inside TLS after CredSSP, per side.
    pub pdus: [u32; 2],
}

impl SessionFacts {
    pub fn seen(&self) -> bool {
        self.pdus != [0, 0]
    }
}
