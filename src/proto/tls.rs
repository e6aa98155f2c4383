//! TLS records and handshake messages (RFC 5246 §6.2, §7.4; RFC 8446 §4, §5.1), parsed
//! with `tls-parser`. This module only turns bytes into summaries; which direction is
//! encrypted, and when, is the connection state's business.

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, parse_tls_server_hello_extensions,
    TlsAlertDescription, TlsAlertSeverity, TlsCipherSuite, TlsExtension, TlsMessage, TlsMessageHandshake, TlsVersion,
};

use super::{ParseError, ParseResult};

pub const RECORD_HEADER_LEN: usize = 5;
/// RFC 8446 §5.2: a protected record may be up to 2^14 + 256 bytes; TLS 1.2 allows 2^14 + 2048.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_HEARTBEAT: u8 = 24;

/// RFC 5246 §6.2.1 TLSPlaintext header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub length: u16,
}

pub fn parse_record_header(i: &[u8]) -> ParseResult<RecordHeader> {
    match i {
        [ct, major, minor, hi, lo, ..] => {
            if !(CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(ct) {
                return Err(ParseError::Malformed("TLS record content type out of range"));
            }
            if *major != 3 || *minor > 4 {
                return Err(ParseError::Malformed("TLS record version is not 3.x"));
            }
            let length = u16::from_be_bytes([*hi, *lo]);
            if usize::from(length) > MAX_RECORD_LEN {
                return Err(ParseError::Malformed("TLS record longer than 2^14 + 2048"));
            }
            Ok(RecordHeader {
                content_type: *ct,
                version: u16::from_be_bytes([*major, *minor]),
                length,
            })
        }
        _ => Err(ParseError::Incomplete),
    }
}

/// Whether `i` plausibly starts a TLS record; used to resynchronise after a capture gap.
pub fn plausible_start(i: &[u8]) -> bool {
    parse_record_header(i).is_ok()
}

/// RFC 5246 §7.2 alert, as sent in the clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    pub level: TlsAlertSeverity,
    pub description: TlsAlertDescription,
}

pub fn parse_alert(body: &[u8]) -> ParseResult<Alert> {
    match body {
        [level, description] if (1..=2).contains(level) => Ok(Alert {
            level: TlsAlertSeverity(*level),
            description: TlsAlertDescription(*description),
        }),
        [_, _] => Err(ParseError::Malformed("alert level is neither warning nor fatal")),
        _ => Err(ParseError::Malformed("alert is not two bytes")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: TlsVersion,
    /// The client random (RFC 5246 §7.4.1.2): the key a key log is looked up by.
    pub random: [u8; 32],
    /// supported_versions (RFC 8446 §4.2.1), GREASE removed, in the client's order.
    pub supported_versions: Vec<TlsVersion>,
    pub cipher_suites: Vec<u16>,
    pub sni: Option<String>,
    /// ALPN protocols offered (RFC 7301 §3.1), at most [`MAX_ALPN`], each cut to 32 bytes.
    pub alpn: Vec<String>,
    /// JA4 fingerprint (`None` when the extensions could not be parsed).
    pub ja4: Option<String>,
}

/// ALPN protocols kept from a ClientHello.
pub const MAX_ALPN: usize = 8;

/// The protocol a server selected by ALPN (RFC 7301 §3.1): an RD Gateway's KDC proxy runs
/// over `h2`, its tunnel over `http/1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    H2,
    Http11,
    Other,
}

impl Alpn {
    pub fn from_wire(p: &[u8]) -> Alpn {
        match p {
            b"h2" => Alpn::H2,
            b"http/1.1" => Alpn::Http11,
            _ => Alpn::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Alpn::H2 => "h2",
            Alpn::Http11 => "http/1.1",
            Alpn::Other => "other",
        }
    }
}

impl ClientHello {
    /// The versions the client offers: supported_versions if present, else the legacy version.
    pub fn offered_versions(&self) -> Vec<TlsVersion> {
        if self.supported_versions.is_empty() {
            vec![self.legacy_version]
        } else {
            self.supported_versions.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: TlsVersion,
    pub random: [u8; 32],
    /// The negotiated version: supported_versions if present (TLS 1.3), else the legacy field.
    pub version: TlsVersion,
    pub cipher: u16,
    /// RFC 8446 §4.1.3: a ServerHello whose random is this constant is a HelloRetryRequest.
    pub hello_retry_request: bool,
    /// The server echoed encrypt_then_mac (RFC 7366 §2): CBC records are MACed after encryption.
    pub encrypt_then_mac: bool,
    /// The server echoed extended_master_secret (RFC 7627 §5.2): the master secret hashes the
    /// handshake.
    pub extended_master_secret: bool,
    /// The ALPN protocol the server selected.
    pub alpn: Option<Alpn>,
}

/// What one handshake message told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake<'a> {
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    /// DER of each certificate, leaf first (RFC 5246 §7.4.2).
    Certificate(Vec<&'a [u8]>),
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    Finished,
    NewSessionTicket,
    Other(u8),
}

impl Handshake<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Handshake::ClientHello(_) => "ClientHello",
            Handshake::ServerHello(sh) if sh.hello_retry_request => "HelloRetryRequest",
            Handshake::ServerHello(_) => "ServerHello",
            Handshake::Certificate(_) => "Certificate",
            Handshake::ServerKeyExchange => "ServerKeyExchange",
            Handshake::CertificateRequest => "CertificateRequest",
            Handshake::ServerHelloDone => "ServerHelloDone",
            Handshake::ClientKeyExchange => "ClientKeyExchange",
            Handshake::Finished => "Finished",
            Handshake::NewSessionTicket => "NewSessionTicket",
            Handshake::Other(_) => "handshake message",
        }
    }
}

/// Length of the handshake message at the front of `i` (4-byte header + body).
pub fn handshake_message_len(i: &[u8]) -> ParseResult<usize> {
    match i {
        [_, a, b, c, ..] => Ok(4 + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c))),
        _ => Err(ParseError::Incomplete),
    }
}

const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11,
    0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Bound on how many cipher suites we keep (a ClientHello may list up to 32767).
const MAX_CIPHERS: usize = 512;

/// Parse one complete handshake message (header included).
pub fn parse_handshake(msg: &[u8]) -> ParseResult<Handshake<'_>> {
    let ty = *msg.first().ok_or(ParseError::Incomplete)?;
    // TLS 1.3 EncryptedExtensions (RFC 8446 §4.3.1), readable only once decrypted: nothing in
    // it matters here, and tls-parser refuses some valid ones.
    if ty == 8 {
        return Ok(Handshake::Other(ty));
    }
    let (_, parsed) = parse_tls_message_handshake(msg).map_err(|e| match e {
        nom::Err::Incomplete(_) => ParseError::Incomplete,
        _ => ParseError::Malformed("TLS handshake message"),
    })?;
    let TlsMessage::Handshake(hs) = parsed else {
        return Ok(Handshake::Other(ty));
    };
    Ok(match hs {
        TlsMessageHandshake::ClientHello(ch) => {
            let mut hello = ClientHello {
                legacy_version: ch.version,
                random: random32(ch.random),
                supported_versions: Vec::new(),
                cipher_suites: ch.ciphers.iter().take(MAX_CIPHERS).map(|c| c.0).collect(),
                sni: None,
                alpn: Vec::new(),
                ja4: None,
            };
            // Extensions that fail to parse are ignored: the hello itself is still valid
            // evidence (but its JA4 cannot be told).
            let exts = match ch.ext.map(parse_tls_client_hello_extensions) {
                None => Some(Vec::new()),
                Some(Ok((_, exts))) => Some(exts),
                Some(Err(_)) => None,
            };
            if let Some(exts) = exts {
                hello.ja4 = Some(super::ja4::ja4(&ch, &exts));
                for ext in exts {
                    match ext {
                        TlsExtension::SupportedVersions(v) => {
                            hello.supported_versions = v.iter().copied().filter(|v| !is_grease(v.0)).collect();
                        }
                        TlsExtension::SNI(names) => {
                            hello.sni = names.first().map(|(_, n)| String::from_utf8_lossy(n).into_owned());
                        }
                        TlsExtension::ALPN(protos) => {
                            hello.alpn = protos
                                .iter()
                                .take(MAX_ALPN)
                                .map(|p| String::from_utf8_lossy(p).chars().take(32).collect())
                                .collect();
                        }
                        _ => {}
                    }
                }
            }
            Handshake::ClientHello(hello)
        }
        TlsMessageHandshake::ServerHello(sh) => {
            let mut version = sh.version;
            // Read from the raw list: tls-parser 0.12 maps a ServerHello's extension 21
            // (padding) to EncryptThenMac and leaves the real one, 22, unknown.
            let encrypt_then_mac = sh.ext.is_some_and(|e| has_extension(e, EXT_ENCRYPT_THEN_MAC));
            let extended_master_secret = sh.ext.is_some_and(|e| has_extension(e, EXT_EXTENDED_MASTER_SECRET));
            let mut alpn = None;
            if let Some(Ok((_, exts))) = sh.ext.map(parse_tls_server_hello_extensions) {
                for ext in exts {
                    match ext {
                        TlsExtension::SupportedVersions(v) => {
                            if let Some(v) = v.first() {
                                version = *v;
                            }
                        }
                        TlsExtension::ALPN(p) => alpn = p.first().map(|p| Alpn::from_wire(p)),
                        _ => {}
                    }
                }
            }
            Handshake::ServerHello(ServerHello {
                legacy_version: sh.version,
                random: random32(sh.random),
                version,
                cipher: sh.cipher.0,
                hello_retry_request: sh.random == HRR_RANDOM,
                encrypt_then_mac,
                extended_master_secret,
                alpn,
            })
        }
        TlsMessageHandshake::ServerHelloV13Draft18(sh) => Handshake::ServerHello(ServerHello {
            legacy_version: sh.version,
            random: random32(sh.random),
            version: sh.version,
            cipher: sh.cipher.0,
            hello_retry_request: false,
            encrypt_then_mac: false,
            extended_master_secret: false,
            alpn: None,
        }),
        TlsMessageHandshake::Certificate(c) => Handshake::Certificate(c.cert_chain.iter().map(|c| c.data).collect()),
        TlsMessageHandshake::ServerKeyExchange(_) => Handshake::ServerKeyExchange,
        TlsMessageHandshake::CertificateRequest(_) => Handshake::CertificateRequest,
        TlsMessageHandshake::ServerDone(_) => Handshake::ServerHelloDone,
        TlsMessageHandshake::ClientKeyExchange(_) => Handshake::ClientKeyExchange,
        TlsMessageHandshake::Finished(_) => Handshake::Finished,
        TlsMessageHandshake::NewSessionTicket(_) => Handshake::NewSessionTicket,
        _ => Handshake::Other(ty),
    })
}

/// encrypt_then_mac (RFC 7366 §2).
const EXT_ENCRYPT_THEN_MAC: u16 = 22;
/// extended_master_secret (RFC 7627 §5.1).
const EXT_EXTENDED_MASTER_SECRET: u16 = 23;

/// Whether a raw extension list (type u16, length u16, data) holds extension `ty`.
fn has_extension(mut ext: &[u8], ty: u16) -> bool {
    while let [a, b, c, d, rest @ ..] = ext {
        if u16::from_be_bytes([*a, *b]) == ty {
            return true;
        }
        match rest.get(usize::from(u16::from_be_bytes([*c, *d]))..) {
            Some(r) => ext = r,
            None => return false,
        }
    }
    false
}

/// Certificates kept from one chain.
const MAX_CHAIN: usize = 16;

fn u24(b: &[u8]) -> Option<(usize, &[u8])> {
    match b {
        [a, b2, c, rest @ ..] => Some((
            (usize::from(*a) << 16) | (usize::from(*b2) << 8) | usize::from(*c),
            rest,
        )),
        _ => None,
    }
}

/// A TLS 1.3 Certificate message (RFC 8446 §4.4.2): a request context, then entries of a
/// certificate and its extensions (TLS 1.2's layout has no context and no extensions, which
/// is what tls-parser reads). Seen only once the server's flight is decrypted.
pub fn parse_certificate_13(msg: &[u8]) -> ParseResult<Handshake<'_>> {
    let bad = ParseError::Malformed("TLS 1.3 Certificate");
    let body = match msg {
        [11, rest @ ..] => u24(rest).and_then(|(len, b)| b.get(..len)).ok_or(bad.clone())?,
        _ => return Err(bad),
    };
    let (&ctx_len, rest) = body.split_first().ok_or(bad.clone())?;
    let rest = rest.get(usize::from(ctx_len)..).ok_or(bad.clone())?;
    let (list_len, rest) = u24(rest).ok_or(bad.clone())?;
    let mut list = rest.get(..list_len).ok_or(bad.clone())?;
    let mut chain = Vec::new();
    while !list.is_empty() && chain.len() < MAX_CHAIN {
        let (len, rest) = u24(list).ok_or(bad.clone())?;
        chain.push(rest.get(..len).ok_or(bad.clone())?);
        let rest = rest.get(len..).ok_or(bad.clone())?;
        let ext_len = match rest {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => return Err(bad),
        };
        list = rest.get(2 + ext_len..).ok_or(bad.clone())?;
    }
    Ok(Handshake::Certificate(chain))
}

/// A hello's 32-byte random (tls-parser checks its length; zeros if it ever did not).
fn random32(r: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(r).unwrap_or([0; 32])
}

/// RFC 8701 GREASE values look like 0x?A?A.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// "1.0".."1.3", "ssl3", or the hex value.
pub fn version_name(v: TlsVersion) -> String {
    let v = v.0;
    match v {
        0x0300 => "ssl3".into(),
        0x0301 => "1.0".into(),
        0x0302 => "1.1".into(),
        0x0303 => "1.2".into(),
        0x0304 => "1.3".into(),
        0x7f00..=0x7fff => format!("1.3-draft{}", v & 0xff),
        _ => format!("0x{v:04x}"),
    }
}

pub fn cipher_name(id: u16) -> Option<&'static str> {
    TlsCipherSuite::from_id(id).map(|c| c.name)
}

/// RFC 8446 §6 alert names in snake_case ("protocol_version"), or `unknown_N`.
pub fn alert_name(description: TlsAlertDescription) -> String {
    let camel = description.to_string();
    let description = description.0;
    if camel.is_empty() || !camel.chars().all(|c| c.is_ascii_alphabetic()) {
        return format!("unknown_{description}");
    }
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn alert_level_name(level: TlsAlertSeverity) -> &'static str {
    match level.0 {
        1 => "warning",
        2 => "fatal",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn raw_extension_lists_are_walked_by_length() {
        // padding (21, 2 bytes), then encrypt_then_mac (22, empty).
        let ext = [0x00, 0x15, 0x00, 0x02, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00];
        assert!(has_extension(&ext, 22) && has_extension(&ext, 21));
        assert!(!has_extension(&ext[..6], 22));
        assert!(!has_extension(&[0x00, 0x16, 0xff], 22));
    }

    #[test]
    fn tls13_certificate_entries_with_extensions() {
        // context length 1 (0xaa), list of two entries: "abc" + 2-byte extension, "de" + none.
        let body = [
            0x01, 0xaa, 0x00, 0x00, 0x11, 0x00, 0x00, 0x03, b'a', b'b', b'c', 0x00, 0x02, 0xff, 0xff, 0x00, 0x00, 0x02,
            b'd', b'e', 0x00, 0x00,
        ];
        let mut msg = vec![11, 0, 0, body.len() as u8];
        msg.extend_from_slice(&body);
        assert_eq!(
            parse_certificate_13(&msg),
            Ok(Handshake::Certificate(vec![b"abc", b"de"]))
        );
        for n in 0..msg.len() {
            assert!(parse_certificate_13(&msg[..n]).is_err(), "{n}");
        }
    }

    use super::*;

    #[test]
    fn record_header_bounds() {
        assert_eq!(
            parse_record_header(b"\x16\x03\x01\x00\x05"),
            Ok(RecordHeader {
                content_type: 22,
                version: 0x0301,
                length: 5
            })
        );
        assert_eq!(parse_record_header(b"\x16\x03"), Err(ParseError::Incomplete));
        assert!(parse_record_header(b"\x03\x00\x00\x13\x0e").is_err());
        // 2^14 + 2049 claimed: rejected before anything is buffered.
        assert!(parse_record_header(b"\x17\x03\x03\x48\x01").is_err());
    }

    #[test]
    fn alerts_and_names() {
        assert_eq!(
            parse_alert(b"\x02\x46"),
            Ok(Alert {
                level: TlsAlertSeverity(2),
                description: TlsAlertDescription(70)
            })
        );
        assert!(parse_alert(b"\x02").is_err());
        assert_eq!(alert_name(TlsAlertDescription(70)), "protocol_version");
        assert_eq!(alert_name(TlsAlertDescription(40)), "handshake_failure");
        assert_eq!(alert_name(TlsAlertDescription(0)), "close_notify");
        assert_eq!(alert_name(TlsAlertDescription(200)), "unknown_200");
        assert_eq!(version_name(TlsVersion(0x0303)), "1.2");
        assert_eq!(cipher_name(0xc030), Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
        assert!(is_grease(0x1a1a) && !is_grease(0x0304));
    }

    /// ndpi__rdp.pcap frame 7: a Windows 10 client's ClientHello record (TLS 1.2, 22 suites,
    /// SNI 192.168.2.142).
    const CLIENT_HELLO_RECORD: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0xa8, 0x01, 0x00, 0x00, 0xa4, 0x03, 0x03, 0x5c, 0xef, 0x9e, 0x29, 0xf7, 0x05, 0x0d,
        0x16, 0xa1, 0xa2, 0x39, 0x1d, 0x64, 0x62, 0x56, 0x81, 0xe3, 0x42, 0x5a, 0x70, 0xbd, 0xd5, 0x04, 0x5d, 0xb0,
        0xa2, 0x3d, 0x3d, 0xb2, 0x50, 0xdb, 0xe7, 0x00, 0x00, 0x2c, 0x00, 0xff, 0xc0, 0x2c, 0xc0, 0x2b, 0xc0, 0x24,
        0xc0, 0x23, 0xc0, 0x0a, 0xc0, 0x09, 0xc0, 0x08, 0xc0, 0x30, 0xc0, 0x2f, 0xc0, 0x28, 0xc0, 0x27, 0xc0, 0x14,
        0xc0, 0x13, 0xc0, 0x12, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0x0a,
        0x01, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x12, 0x00, 0x10, 0x00, 0x00, 0x0d, 0x31, 0x39, 0x32, 0x2e, 0x31,
        0x36, 0x38, 0x2e, 0x32, 0x2e, 0x31, 0x34, 0x32, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x17, 0x00, 0x18,
        0x00, 0x19, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x01, 0x02, 0x01,
        0x05, 0x01, 0x06, 0x01, 0x04, 0x03, 0x02, 0x03, 0x05, 0x03, 0x06, 0x03, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00,
    ];

    #[test]
    fn real_client_hello() {
        let h = parse_record_header(CLIENT_HELLO_RECORD).unwrap();
        assert_eq!((h.content_type, h.length), (CT_HANDSHAKE, 168));
        let msg = &CLIENT_HELLO_RECORD[RECORD_HEADER_LEN..];
        assert_eq!(handshake_message_len(msg), Ok(msg.len()));
        let Handshake::ClientHello(ch) = parse_handshake(msg).unwrap() else {
            panic!("ClientHello")
        };
        assert_eq!(ch.legacy_version, TlsVersion::Tls12);
        assert_eq!(ch.cipher_suites.len(), 22);
        assert_eq!(ch.sni.as_deref(), Some("192.168.2.142"));
        assert_eq!(ch.offered_versions(), vec![TlsVersion::Tls12]);
        // Every strict prefix is incomplete or malformed, never a panic.
        for n in 0..msg.len() {
            assert!(parse_handshake(&msg[..n]).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_record_header(&data);
            let _ = parse_handshake(&data);
            let _ = parse_alert(&data);
            let _ = handshake_message_len(&data);
        }
    }

    #[test]
    fn handshake_length_and_garbage() {
        assert_eq!(handshake_message_len(b"\x01\x00\x01\x00"), Ok(260));
        assert!(parse_handshake(b"\x02\x00\x00\x02\x03\x03").is_err());
    }
}
