//! What the wire showed about one connection above TCP, as parsed values. The
//! diagnosis and the reports read these; nothing here is inferred.

use crate::conn::gateway_facts::GatewayFacts;
use crate::conn::inside_facts::InsideFacts;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::cert::CertSummary;
use crate::proto::mcs::{ConnectInitial, ConnectResponse};
use crate::proto::tls::{ClientHello, ServerHello};
use crate::proto::x224::Protocols;
use crate::proto::x224::{ConnectionConfirm, ConnectionRequest};
use crate::proto::{http_connect, socks};
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsVersion};

#[derive(Debug, Clone, Default)]
pub struct RdpFacts {
    /// A SOCKS or HTTP CONNECT exchange before the RDP bytes: RDP tunnelled through a proxy.
    pub proxy: Option<ProxyFacts>,
    pub request: Option<(At, ConnectionRequest)>,
    pub confirm: Option<(At, ConnectionConfirm)>,
    pub disconnect: Option<(At, Side)>,
    pub tls: TlsFacts,
    pub connect_initial: Option<(At, ConnectInitial)>,
    pub connect_response: Option<(At, ConnectResponse)>,
    /// Leaf certificate sent in the server security data (standard RDP security, X.509 chain).
    pub rdp_certificate: Option<CertSummary>,
    /// Cleartext RDP PDUs after the MCS exchange (standard RDP security).
    pub rdp_pdus: [u32; 2],
    /// Server licensing PDU (standard RDP security).
    pub server_license: Option<At>,
    /// First server PDU after licensing, or fast-path output: the session runs.
    pub session_start: Option<At>,
    /// MCS Disconnect Provider Ultimatum: when, from whom, the T.125 reason.
    pub ultimatum: Option<(At, Side, u8)>,
    /// What was read inside TLS with the session keys.
    pub inside: InsideFacts,
    /// The client opened with a TLS ClientHello, not X.224: an HTTPS connection (an RD
    /// Gateway leg, a KDC proxy or something else), and what was read of it.
    pub https: Option<Box<GatewayFacts>>,
    /// Frames where a parser met bytes it could not make sense of (bounded).
    pub anomalies: Vec<(At, Side, &'static str)>,
    pub anomaly_count: u32,
}

/// How the client asked a proxy for a tunnel to the RDP server.
#[derive(Debug, Clone)]
pub enum ProxyFacts {
    Socks(SocksFacts),
    Http(HttpConnectFacts),
}

/// What the two sides said to open a SOCKS tunnel (proto::socks). The password of a
/// username/password authentication is never kept.
#[derive(Debug, Clone, Default)]
pub struct SocksFacts {
    /// SOCKS5 greeting: the methods the client offered.
    pub greeting: Option<(At, Vec<u8>)>,
    /// The method the proxy selected.
    pub method: Option<(At, u8)>,
    /// RFC 1929 authentication: the user name sent.
    pub auth: Option<(At, String)>,
    pub auth_status: Option<(At, u8)>,
    pub request: Option<(At, socks::Request)>,
    /// The proxy's reply: SOCKS version and code.
    pub reply: Option<(At, u8, u8)>,
}

/// An HTTP CONNECT exchange (proto::http_connect): the last request and response, and how
/// many there were (a 407 makes the client ask again with credentials).
#[derive(Debug, Clone, Default)]
pub struct HttpConnectFacts {
    pub requests: u32,
    pub request: Option<(At, http_connect::Request)>,
    pub responses: u32,
    pub response: Option<(At, http_connect::Response)>,
    /// The first response that did not grant the tunnel (a 407 before the credentials).
    pub first_refusal: Option<(At, u16)>,
}

impl HttpConnectFacts {
    pub fn granted(&self) -> bool {
        self.response.as_ref().is_some_and(|(_, r)| r.granted())
    }
}

impl SocksFacts {
    pub fn version(&self) -> u8 {
        match (&self.request, &self.reply) {
            (Some((_, r)), _) => r.version,
            (None, Some((_, v, _))) => *v,
            _ => 5,
        }
    }

    /// Whether the proxy opened the tunnel.
    pub fn granted(&self) -> bool {
        self.reply.is_some_and(|(_, v, code)| socks::granted(v, code))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSeen {
    pub at: At,
    pub side: Side,
    /// Sent after the sender switched to encryption: level and description are not visible.
    pub encrypted: bool,
    pub level: Option<TlsAlertSeverity>,
    pub description: Option<TlsAlertDescription>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppRecord {
    pub at: At,
    pub side: Side,
    pub len: u16,
}

#[derive(Debug, Clone, Default)]
pub struct TlsFacts {
    pub client_hello: Option<(At, ClientHello)>,
    pub server_hello: Option<(At, ServerHello)>,
    pub certificate: Option<(At, CertSummary)>,
    pub chain_len: usize,
    /// Why the leaf certificate could not be summarised, when it could not.
    pub certificate_error: Option<&'static str>,
    pub server_hello_done: Option<At>,
    /// The client's first TLS record after the ServerHello (what it did next).
    pub first_client_record_after_server_hello: Option<At>,
    pub client_key_exchange: Option<At>,
    pub change_cipher_spec: [Option<At>; 2],
    /// First encrypted handshake record (Finished) per side.
    pub encrypted_handshake: [Option<At>; 2],
    pub alerts: Vec<AlertSeen>,
    /// Application-data records in wire order (bounded by `max_app_records` per side).
    pub app_records: Vec<AppRecord>,
    pub app_count: [u64; 2],
    pub app_bytes: [u64; 2],
    /// With `--server-key` only: what decrypting an RSA key exchange needs.
    pub rsa: RsaKx,
}

/// With `--server-key`: the handshake messages from the ClientHello to the ClientKeyExchange
/// (the extended master secret hashes them; bounded by `decrypt::server_key::MAX_TRANSCRIPT`)
/// and the ClientKeyExchange's encrypted premaster secret. Empty otherwise.
#[derive(Debug, Clone, Default)]
pub struct RsaKx {
    pub transcript: Vec<u8>,
    /// The transcript went over its bound: it is incomplete.
    pub transcript_cut: bool,
    pub encrypted_premaster: Option<Vec<u8>>,
}

impl TlsFacts {
    pub fn seen(&self) -> bool {
        self.client_hello.is_some() || self.server_hello.is_some()
    }

    /// TLS 1.3 protects everything after the ServerHello.
    pub fn is_tls13(&self) -> bool {
        self.server_hello
            .as_ref()
            .is_some_and(|(_, sh)| sh.version == TlsVersion::Tls13)
    }
}

/// Bound on anomalies remembered per connection (the count keeps going).
pub const MAX_ANOMALIES: usize = 16;

impl RdpFacts {
    pub fn anomaly(&mut self, at: At, side: Side, what: &'static str) {
        self.anomaly_count = self.anomaly_count.saturating_add(1);
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push((at, side, what));
        }
    }

    pub fn selected_protocol(&self) -> Option<Protocols> {
        use crate::proto::x224::Negotiation;
        match self.confirm.as_ref()?.1.negotiation? {
            Negotiation::Response { selected_protocol, .. } => Some(selected_protocol),
            Negotiation::Failure { .. } => None,
        }
    }
}
