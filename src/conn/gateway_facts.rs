//! What an HTTPS connection showed: the client opened with a TLS ClientHello instead of
//! X.224, so it is an RD Gateway leg, a KDC proxy or something else. Without keys only
//! TLS is visible; with them, the HTTP exchanges, the authentication (never a secret), the
//! MS-TSGU tunnel steps and the KDC proxy's Kerberos messages. Every list is bounded.

use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::http::AuthHeader;

/// HTTP exchanges kept per connection; more are counted.
pub const MAX_HTTP: usize = 16;
/// Kerberos messages kept from a KDC proxy connection.
pub const MAX_KDC: usize = 16;
/// Inner RDP connections a gateway leg may carry (one channel per tunnel in practice).
pub const MAX_INNER: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Nothing read yet says which (no keys, or nothing decoded).
    #[default]
    Unknown,
    Gateway,
    KdcProxy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// MS-TSGU 2.2.3.1: RDG_OUT_DATA upgraded to a WebSocket.
    WebSocket,
    /// MS-TSGU 2.2.3.2: the legacy two-channel HTTP transport (RDG_IN_DATA / RDG_OUT_DATA).
    Http,
    /// RPC over HTTP (RPC_IN_DATA / RPC_OUT_DATA, MS-RPCH).
    Rpc,
}

/// The legacy HTTP transport's two channels (MS-TSGU 2.2.3.2): RDG_OUT_DATA carries the
/// gateway's packets, RDG_IN_DATA the client's; the RDG-Connection-Id header pairs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyChannel {
    Out,
    In,
}

/// One HTTP request and the response it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExchange {
    pub at: At,
    pub method: String,
    pub path: String,
    pub status: Option<(At, u16, String)>,
}

/// The authentication read from the `Authorization` headers: the last one sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthFacts {
    pub scheme: String,
    /// `ntlm`, `kerberos`, ... from the token; `None` for Basic or an undecoded token.
    pub mechanism: Option<&'static str>,
    pub user: Option<String>,
    pub domain: Option<String>,
}

/// A tunnel step's answer: the status and where it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: At,
    pub status: u32,
}

/// A Kerberos message carried by the KDC proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcMessage {
    pub at: At,
    pub side: Side,
    pub message: &'static str,
    pub error: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct GatewayFacts {
    pub role: Role,
    pub transport: Option<Transport>,
    /// The client spoke HTTP/2 (connection preface seen, or ALPN h2).
    pub h2: bool,
    pub http: Vec<HttpExchange>,
    pub http_count: u32,
    pub connection_id: Option<String>,
    pub auth: Option<AuthFacts>,
    /// The server's 101 Switching Protocols.
    pub upgraded: Option<At>,
    pub handshake: Option<Step>,
    pub tunnel: Option<Step>,
    pub tunnel_auth: Option<Step>,
    /// The idle timeout (minutes) the gateway announced in TUNNEL_AUTH_RESPONSE.
    pub idle_timeout_min: Option<u32>,
    /// CHANNEL_CREATE: when, the target's names and port.
    pub channel_create: Option<(At, Vec<String>, u16)>,
    pub channel: Option<Step>,
    /// CLOSE_CHANNEL from either side, with its status.
    pub close: Option<(At, Side, u32)>,
    pub reauth: Option<At>,
    pub service_messages: u32,
    pub keepalives: u32,
    /// MS-TSGU packets per side, and DATA bytes carried per side.
    pub packets: [u32; 2],
    pub data_bytes: [u64; 2],
    /// WebSocket Close frame: when, from whom, its status code.
    pub ws_close: Option<(At, Side, Option<u16>)>,
    pub kdc: Vec<KdcMessage>,
    /// RPC over HTTP: DCE/RPC PDUs per side, and the first rpc_fault with its status.
    pub rpc_pdus: [u32; 2],
    pub rpc_fault: Option<(At, Side, u32)>,
    /// KDC proxy requests answered by something that is not a Kerberos message (an HTTP
    /// error page: 503 when the gateway has no KDC proxy).
    pub kdc_not_answered: u32,
    /// The first such answer.
    pub kdc_not_answered_at: Option<At>,
    /// Ids of the inner RDP connections (set when the leg is finished).
    pub inner: Vec<u64>,
    /// Legacy HTTP transport: which channel this leg is.
    pub legacy: Option<LegacyChannel>,
    /// The other channel's connection id (same RDG-Connection-Id), once they were paired:
    /// the OUT channel reads the whole MS-TSGU conversation, the IN channel's packets
    /// included, and carries the inner connection.
    pub legacy_partner: Option<u64>,
}

/// The MS-TSGU steps of a tunnel, as its legacy OUT channel read them: what its IN channel
/// is judged by too.
#[derive(Debug, Clone, Default)]
pub struct TunnelSteps {
    handshake: Option<Step>,
    tunnel: Option<Step>,
    tunnel_auth: Option<Step>,
    idle_timeout_min: Option<u32>,
    channel_create: Option<(At, Vec<String>, u16)>,
    channel: Option<Step>,
    close: Option<(At, Side, u32)>,
}

impl GatewayFacts {
    pub fn tunnel_steps(&self) -> TunnelSteps {
        TunnelSteps {
            handshake: self.handshake,
            tunnel: self.tunnel,
            tunnel_auth: self.tunnel_auth,
            idle_timeout_min: self.idle_timeout_min,
            channel_create: self.channel_create.clone(),
            channel: self.channel,
            close: self.close,
        }
    }

    /// A legacy IN channel takes its OUT channel's steps (its own packets were read there).
    pub fn adopt_steps(&mut self, s: TunnelSteps) {
        self.handshake = s.handshake;
        self.tunnel = s.tunnel;
        self.tunnel_auth = s.tunnel_auth;
        self.idle_timeout_min = s.idle_timeout_min;
        self.channel_create = s.channel_create;
        self.channel = s.channel;
        self.close = s.close;
    }

    /// The last response status and its reason phrase.
    pub fn last_status(&self) -> Option<&(At, u16, String)> {
        self.http.iter().rev().find_map(|x| x.status.as_ref())
    }
}

/// The mechanism and names an `Authorization` header's token shows.
pub fn auth_facts(a: &AuthHeader) -> AuthFacts {
    use crate::proto::ntlm::NtlmMessage;
    use crate::proto::spnego::AuthMessage;
    let mut f = AuthFacts {
        scheme: a.scheme.clone(),
        ..AuthFacts::default()
    };
    match &a.message {
        Some(AuthMessage::Ntlm(m)) => {
            f.mechanism = Some("ntlm");
            if let NtlmMessage::Authenticate(x) = m {
                f.user = Some(x.user.clone()).filter(|u| !u.is_empty());
                f.domain = Some(x.domain.clone()).filter(|d| !d.is_empty());
            }
        }
        Some(AuthMessage::Kerberos(g)) => {
            f.mechanism = Some("kerberos");
            if let crate::proto::kerberos::KrbMessage::ApReq(ap) = &g.message {
                f.domain = Some(ap.ticket_realm.clone());
            }
        }
        Some(AuthMessage::KerberosRaw(_)) => f.mechanism = Some("kerberos"),
        Some(AuthMessage::Other(_)) | None => {}
    }
    f
}
