//! The timeline of a connection: what happened, on which frame, from which side. Events
//! are typed values; text exists only when one is rendered ([`EventKind::describe`]).

use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsVersion};

use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::credssp::EarlyUserAuthResult;
use crate::proto::rdp::license::{LicenseErrorCode, LicenseMsgType, StateTransition};
use crate::proto::rdp::share::LogonError;
use crate::proto::x224::{FailureCode, Protocols};
use crate::proto::{socks, tls};

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Syn {
        mss: Option<u16>,
    },
    SynAck {
        mss: Option<u16>,
    },
    HandshakeAck,
    X224Request {
        cookie: Option<String>,
        requested: Option<Protocols>,
    },
    X224Confirm {
        selected: Option<Protocols>,
    },
    NegotiationFailure {
        code: FailureCode,
    },
    X224Disconnect,
    ClientHello {
        versions: Box<[TlsVersion]>,
        ciphers: usize,
        sni: Option<Box<str>>,
    },
    ServerHello {
        version: TlsVersion,
        cipher: u16,
    },
    /// The leaf certificate's subject (`None` when it did not parse).
    Certificate {
        subject: Option<String>,
    },
    /// Any other handshake message, by name.
    TlsHandshake {
        name: &'static str,
    },
    ChangeCipherSpec,
    EncryptedHandshake {
        len: u16,
    },
    Alert {
        level: TlsAlertSeverity,
        description: TlsAlertDescription,
    },
    EncryptedAlert {
        len: u16,
    },
    AppData {
        len: u16,
    },
    McsConnectInitial,
    McsConnectResponse {
        result: u8,
    },
    /// An MCS PDU of the connection sequence by its T.125 name (Erect Domain, Attach User,
    /// Channel Join), at its first frame; `times` counts it and its repeats (a Channel Join
    /// per virtual channel).
    McsStep {
        what: &'static str,
        times: u32,
    },
    RdpStep {
        what: &'static str,
    },
    DisconnectUltimatum {
        reason: u8,
    },
    Fin,
    Rst,
    Gap {
        bytes: u32,
    },
    Malformed {
        what: &'static str,
    },
    UdpSyn,
    UdpSynAck,
    /// Boxed: the largest message would make every event larger.
    SocksClient(Box<socks::ClientMsg>),
    SocksServer(socks::ServerMsg),
    /// Read inside TLS with the session keys.
    Inside(InsideEvent),
    /// An HTTP CONNECT request: the authority asked for.
    HttpConnect {
        authority: String,
    },
    /// The proxy's status line.
    HttpStatus {
        status: u16,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: At,
    pub side: Side,
    pub kind: EventKind,
}

impl EventKind {
    /// Whether the event ends or refuses something (a reset, an alert, a refusal): what a
    /// ladder highlights.
    pub fn is_trouble(&self) -> bool {
        matches!(
            self,
            EventKind::Rst
                | EventKind::Alert { .. }
                | EventKind::EncryptedAlert { .. }
                | EventKind::NegotiationFailure { .. }
        )
    }

    /// One line for timelines: short, Wireshark-like.
    pub fn describe(&self) -> String {
        match self {
            EventKind::Syn { mss } => with_mss("SYN", *mss),
            EventKind::SynAck { mss } => with_mss("SYN, ACK", *mss),
            EventKind::HandshakeAck => "ACK (TCP handshake complete)".into(),
            EventKind::X224Request { cookie, requested } => {
                let mut s = String::from("X.224 Connection Request");
                if let Some(c) = cookie {
                    s.push_str(&format!(" cookie={c}"));
                }
                match requested {
                    Some(r) => s.push_str(&format!(" requested={}", r.names().join("|"))),
                    None => s.push_str(" (no RDP_NEG_REQ: legacy client)"),
                }
                s
            }
            EventKind::X224Confirm { selected: Some(p) } => {
                format!("X.224 Connection Confirm selected={}", p.name())
            }
            EventKind::X224Confirm { selected: None } => "X.224 Connection Confirm (no negotiation data)".into(),
            EventKind::NegotiationFailure { code } => {
                format!("X.224 Connection Confirm RDP_NEG_FAILURE {} ({})", code.name(), code.0)
            }
            EventKind::X224Disconnect => "X.224 Disconnect Request".into(),
            EventKind::ClientHello { versions, ciphers, sni } => format!(
                "TLS ClientHello versions={} ciphers={ciphers}{}",
                versions
                    .iter()
                    .map(|v| tls::version_name(*v))
                    .collect::<Vec<_>>()
                    .join(","),
                sni.as_deref().map(|s| format!(" sni={s}")).unwrap_or_default()
            ),
            EventKind::ServerHello { version, cipher } => format!(
                "TLS ServerHello version={} cipher={}",
                tls::version_name(*version),
                tls::cipher_name(*cipher).map_or_else(|| format!("0x{cipher:04x}"), str::to_string)
            ),
            EventKind::Certificate { subject: Some(s) } => format!("TLS Certificate {s}"),
            EventKind::Certificate { subject: None } => "TLS Certificate".into(),
            EventKind::TlsHandshake { name } => format!("TLS {name}"),
            EventKind::ChangeCipherSpec => "TLS ChangeCipherSpec".into(),
            EventKind::EncryptedHandshake { len } => {
                format!("TLS encrypted handshake message ({len} B)")
            }
            EventKind::Alert { level, description } => format!(
                "TLS alert {} {} ({})",
                tls::alert_level_name(*level),
                tls::alert_name(*description),
                description.0
            ),
            EventKind::EncryptedAlert { len } => {
                format!("TLS encrypted alert ({len} B, content not visible)")
            }
            EventKind::AppData { len } => format!("TLS application data ({len} B)"),
            EventKind::McsConnectInitial => "MCS Connect Initial (client settings)".into(),
            EventKind::McsConnectResponse { result } => {
                format!("MCS Connect Response result={result}")
            }
            EventKind::McsStep { what, times: 1 } => format!("MCS {what}"),
            EventKind::McsStep { what, times } => format!("MCS {what} (x{times})"),
            EventKind::RdpStep { what } => format!("RDP {what}"),
            EventKind::DisconnectUltimatum { reason } => format!(
                "MCS Disconnect Provider Ultimatum ({})",
                crate::proto::mcs::domain::ultimatum_reason_name(*reason)
            ),
            EventKind::Fin => "FIN".into(),
            EventKind::Rst => "RST".into(),
            EventKind::Gap { bytes } => format!("capture gap: {bytes} bytes missing"),
            EventKind::Malformed { what } => format!("malformed: {what}"),
            EventKind::UdpSyn => "RDP-UDP SYN".into(),
            EventKind::UdpSynAck => "RDP-UDP SYN+ACK".into(),
            EventKind::SocksClient(m) => socks_client(m),
            EventKind::SocksServer(m) => socks_server(*m),
            EventKind::Inside(e) => e.describe(),
            EventKind::HttpConnect { authority } => format!("HTTP CONNECT {authority}"),
            EventKind::HttpStatus { status, reason } => format!("HTTP {status} {reason}"),
        }
    }
}

/// A step read inside TLS (decrypted): CredSSP and the RDP connection sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum InsideEvent {
    /// A CredSSP TSRequest: version, the mechanism messages it carried, its errorCode.
    TsRequest {
        version: u32,
        messages: Vec<&'static str>,
        error: Option<u32>,
    },
    EarlyUserAuth(EarlyUserAuthResult),
    McsConnectInitial,
    McsConnectResponse {
        result: u8,
    },
    ClientInfo,
    License {
        msg: LicenseMsgType,
        error: Option<(LicenseErrorCode, StateTransition)>,
    },
    DemandActive,
    ConfirmActive,
    DeactivateAll,
    SaveSessionInfo {
        kind: &'static str,
    },
    LogonError(LogonError),
    SetErrorInfo(u32),
    Shutdown {
        denied: bool,
    },
    Redirection,
    /// Decryption of this side stopped (`decrypt::Stop::kind`).
    DecryptionStopped {
        why: &'static str,
    },
    /// An HTTPS connection's HTTP request (method and path) or response (status, reason).
    HttpRequest {
        method: String,
        path: String,
    },
    HttpResponse {
        status: u16,
        reason: String,
    },
    /// An MS-TSGU packet of a gateway tunnel (DATA packets are not listed), with its status.
    Tsgu {
        packet: &'static str,
        status: Option<u32>,
    },
    /// A WebSocket Close frame and its status code.
    WebSocketClose {
        code: Option<u16>,
    },
    /// A Kerberos message carried by a KDC proxy, with its error code.
    KdcProxy {
        message: &'static str,
        error: Option<i32>,
    },
}

impl InsideEvent {
    pub fn describe(&self) -> String {
        match self {
            InsideEvent::TsRequest {
                version,
                messages,
                error,
            } => {
                let mut s = format!("CredSSP TSRequest v{version}");
                if !messages.is_empty() {
                    s.push_str(&format!(" {}", messages.join(", ")));
                }
                if let Some(e) = error {
                    s.push_str(&format!(
                        " errorCode 0x{e:08X} {}",
                        crate::proto::ntstatus::name(*e).unwrap_or("")
                    ));
                }
                s.trim_end().to_string()
            }
            InsideEvent::EarlyUserAuth(r) => format!("Early User Authorization Result {}", r.name()),
            InsideEvent::McsConnectInitial => "MCS Connect Initial (inside TLS)".into(),
            InsideEvent::McsConnectResponse { result } => format!("MCS Connect Response result={result}"),
            InsideEvent::ClientInfo => "Client Info PDU".into(),
            InsideEvent::License { msg, error: None } => format!("Licensing {}", msg.name()),
            InsideEvent::License {
                msg,
                error: Some((e, t)),
            } => {
                format!("Licensing {} {} ({})", msg.name(), e.name(), t.name())
            }
            InsideEvent::DemandActive => "Demand Active PDU".into(),
            InsideEvent::ConfirmActive => "Confirm Active PDU".into(),
            InsideEvent::DeactivateAll => "Deactivate All PDU".into(),
            InsideEvent::SaveSessionInfo { kind } => format!("Save Session Info {kind}"),
            InsideEvent::LogonError(e) => format!(
                "Save Session Info logon error {} {}",
                e.type_name().unwrap_or("?"),
                e.data_name().unwrap_or("")
            )
            .trim_end()
            .to_string(),
            InsideEvent::SetErrorInfo(c) => format!(
                "Set Error Info 0x{c:08X} {}",
                crate::proto::errinfo::name(*c).unwrap_or("(unknown code)")
            ),
            InsideEvent::Shutdown { denied: false } => "Shutdown Request PDU".into(),
            InsideEvent::Shutdown { denied: true } => "Shutdown Denied PDU".into(),
            InsideEvent::Redirection => "Server Redirection PDU".into(),
            InsideEvent::DecryptionStopped { why } => format!("decryption stopped: {why}"),
            InsideEvent::HttpRequest { method, path } => format!("HTTP {method} {path}"),
            InsideEvent::HttpResponse { status, reason } => format!("HTTP {status} {reason}"),
            InsideEvent::Tsgu { packet, status: None } => format!("MS-TSGU {packet}"),
            InsideEvent::Tsgu {
                packet,
                status: Some(c),
            } => format!("MS-TSGU {packet} {}", crate::proto::tsgu::status_text(*c)),
            InsideEvent::WebSocketClose { code: Some(c) } => format!("WebSocket Close {c}"),
            InsideEvent::WebSocketClose { code: None } => "WebSocket Close".into(),
            InsideEvent::KdcProxy { message, error: None } => format!("KDC proxy {message}"),
            InsideEvent::KdcProxy {
                message,
                error: Some(e),
            } => format!(
                "KDC proxy {message} {}",
                crate::proto::kerberos::error_name(*e).unwrap_or("unknown error")
            ),
        }
    }
}

fn socks_client(m: &socks::ClientMsg) -> String {
    match m {
        socks::ClientMsg::Greeting { methods } => {
            let names: Vec<&str> = methods.iter().map(|m| socks::method_name(*m)).collect();
            format!("SOCKS5 greeting, methods: {}", names.join(", "))
        }
        socks::ClientMsg::Auth { user } => format!("SOCKS5 username/password authentication user={user}"),
        socks::ClientMsg::Request(r) => {
            let user = match r.user.as_deref() {
                Some(u) if !u.is_empty() => format!(" user={u}"),
                _ => String::new(),
            };
            format!(
                "SOCKS{} {} {}{user}",
                r.version,
                socks::command_name(r.command),
                r.target
            )
        }
    }
}

fn socks_server(m: socks::ServerMsg) -> String {
    match m {
        socks::ServerMsg::Method(x) => format!("SOCKS5 method selected: {}", socks::method_name(x)),
        socks::ServerMsg::AuthStatus(0) => "SOCKS5 authentication succeeded".into(),
        socks::ServerMsg::AuthStatus(s) => format!("SOCKS5 authentication failed (status {s})"),
        socks::ServerMsg::Reply { version, code } => {
            format!("SOCKS{version} reply: {} ({code})", socks::reply_name(version, code))
        }
    }
}

fn with_mss(s: &str, mss: Option<u16>) -> String {
    match mss {
        Some(m) => format!("{s} MSS={m}"),
        None => s.into(),
    }
}

/// A bounded list of events in wire order.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub events: Vec<Event>,
    pub dropped: u32,
    /// The last event before the first FIN or RST, kept whatever the bound dropped: what
    /// the diagnosis names as "the last thing before" an unexplained close.
    pub last_before_close: Option<Event>,
    closed: bool,
}

impl Timeline {
    pub fn push(&mut self, max: usize, at: At, side: Side, kind: EventKind) {
        let e = Event { at, side, kind };
        if matches!(e.kind, EventKind::Fin | EventKind::Rst) {
            self.closed = true;
        } else if !self.closed {
            self.last_before_close = Some(e.clone());
        }
        if self.events.len() < max {
            push_in_steps(&mut self.events, e);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

/// Push growing the vector a few elements at a time, not by doubling: thousands of open
/// connections each keep a timeline, and doubling leaves a quarter of it unused on average.
pub(crate) fn push_in_steps<T>(v: &mut Vec<T>, x: T) {
    const STEP: usize = 16;
    if v.len() == v.capacity() {
        v.reserve_exact(STEP);
    }
    v.push(x);
}
