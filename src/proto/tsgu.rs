//! MS-TSGU HTTP transport packets (2.2.10): what an RD Gateway and its client say inside the
//! WebSocket or the legacy chunked channels. Every packet starts with HTTP_PACKET_HEADER
//! (2.2.10.9): packetType, reserved, packetLength (the whole packet, header included), all
//! little-endian. Optional fields follow the fieldsPresent bits as 2.2.5.3 gives them (not
//! as other implementations number them). Status and error codes are named by
//! [`status_name`]; the DATA payload is handed out as a slice, never copied.

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, le_u64, u8 as le_byte};

use super::{ParseError, ParseResult};

pub const HEADER_LEN: usize = 8;
/// Packets longer than this are not believed (a DATA packet carries at most 64 KiB).
pub const MAX_PACKET: usize = 70 * 1024;
/// Target names kept from CHANNEL_CREATE (2.2.10.2 numResources + numAltResource).
const MAX_RESOURCES: usize = 4;
const MAX_NAME: usize = 256;

pub const PKT_TYPE_HANDSHAKE_REQUEST: u16 = 0x1;
pub const PKT_TYPE_HANDSHAKE_RESPONSE: u16 = 0x2;
pub const PKT_TYPE_EXTENDED_AUTH_MSG: u16 = 0x3;
pub const PKT_TYPE_TUNNEL_CREATE: u16 = 0x4;
pub const PKT_TYPE_TUNNEL_RESPONSE: u16 = 0x5;
pub const PKT_TYPE_TUNNEL_AUTH: u16 = 0x6;
pub const PKT_TYPE_TUNNEL_AUTH_RESPONSE: u16 = 0x7;
pub const PKT_TYPE_CHANNEL_CREATE: u16 = 0x8;
pub const PKT_TYPE_CHANNEL_RESPONSE: u16 = 0x9;
pub const PKT_TYPE_DATA: u16 = 0xA;
pub const PKT_TYPE_SERVICE_MESSAGE: u16 = 0xB;
pub const PKT_TYPE_REAUTH_MESSAGE: u16 = 0xC;
pub const PKT_TYPE_KEEPALIVE: u16 = 0xD;
pub const PKT_TYPE_CLOSE_CHANNEL: u16 = 0x10;
pub const PKT_TYPE_CLOSE_CHANNEL_RESPONSE: u16 = 0x11;

/// 2.2.5.3.9 HTTP_TUNNEL_AUTH_RESPONSE_FIELDS_PRESENT_FLAGS.
const TUNNEL_AUTH_RESPONSE_FIELD_REDIR_FLAGS: u16 = 0x1;
const TUNNEL_AUTH_RESPONSE_FIELD_IDLE_TIMEOUT: u16 = 0x2;
/// 2.2.5.3.1 HTTP_CHANNEL_RESPONSE_FIELDS_PRESENT_FLAGS (2.2.10.5 lays the fields out as
/// channelId, udpPort, authnCookie).
const CHANNEL_RESPONSE_FIELD_CHANNELID: u16 = 0x1;
const CHANNEL_RESPONSE_FIELD_UDPPORT: u16 = 0x4;
/// 2.2.5.3.8 HTTP_TUNNEL_RESPONSE_FIELDS_PRESENT_FLAGS.
const TUNNEL_RESPONSE_FIELD_TUNNEL_ID: u16 = 0x1;
const TUNNEL_RESPONSE_FIELD_CAPS: u16 = 0x2;

/// One decoded packet. Unknown types are kept by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// 2.2.10.10
    HandshakeRequest {
        ver_major: u8,
        ver_minor: u8,
        client_version: u16,
        extended_auth: u16,
    },
    /// 2.2.10.11
    HandshakeResponse {
        error: u32,
        ver_major: u8,
        ver_minor: u8,
        server_version: u16,
        extended_auth: u16,
    },
    /// 2.2.10.8
    ExtendedAuth {
        len: usize,
    },
    /// 2.2.10.18
    TunnelCreate {
        caps: u32,
        fields: u16,
    },
    /// 2.2.10.20 (+ 2.2.10.21)
    TunnelResponse {
        server_version: u16,
        status: u32,
        fields: u16,
        tunnel_id: Option<u32>,
        caps: Option<u32>,
    },
    /// 2.2.10.14: the client machine's name.
    TunnelAuth {
        fields: u16,
        client_name: String,
    },
    /// 2.2.10.16 (+ 2.2.10.17)
    TunnelAuthResponse {
        error: u32,
        fields: u16,
        redir_flags: Option<u32>,
        idle_timeout_min: Option<u32>,
    },
    /// 2.2.10.2: the target server's names and port.
    ChannelCreate {
        resources: Vec<String>,
        port: u16,
        protocol: u16,
    },
    /// 2.2.10.4 (+ 2.2.10.5)
    ChannelResponse {
        error: u32,
        fields: u16,
        channel_id: Option<u32>,
        udp_port: Option<u16>,
    },
    /// 2.2.10.6: the tunnelled bytes.
    Data(&'a [u8]),
    /// 2.2.10.23: an administrator's message (its length only).
    ServiceMessage {
        len: usize,
    },
    /// 2.2.10.13
    Reauth {
        context: u64,
    },
    /// 2.2.10.12: no body.
    Keepalive,
    /// 2.2.10.3
    CloseChannel {
        status: u32,
    },
    CloseChannelResponse {
        status: u32,
    },
    Other(u16),
}

impl Packet<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Packet::HandshakeRequest { .. } => "HANDSHAKE_REQUEST",
            Packet::HandshakeResponse { .. } => "HANDSHAKE_RESPONSE",
            Packet::ExtendedAuth { .. } => "EXTENDED_AUTH_MSG",
            Packet::TunnelCreate { .. } => "TUNNEL_CREATE",
            Packet::TunnelResponse { .. } => "TUNNEL_RESPONSE",
            Packet::TunnelAuth { .. } => "TUNNEL_AUTH",
            Packet::TunnelAuthResponse { .. } => "TUNNEL_AUTH_RESPONSE",
            Packet::ChannelCreate { .. } => "CHANNEL_CREATE",
            Packet::ChannelResponse { .. } => "CHANNEL_RESPONSE",
            Packet::Data(_) => "DATA",
            Packet::ServiceMessage { .. } => "SERVICE_MESSAGE",
            Packet::Reauth { .. } => "REAUTH_MESSAGE",
            Packet::Keepalive => "KEEPALIVE",
            Packet::CloseChannel { .. } => "CLOSE_CHANNEL",
            Packet::CloseChannelResponse { .. } => "CLOSE_CHANNEL_RESPONSE",
            Packet::Other(_) => "unknown packet type",
        }
    }
}

/// The whole packet's length from its header (2.2.10.9); `Incomplete` before 8 bytes.
pub fn packet_len(i: &[u8]) -> ParseResult<usize> {
    let b: [u8; 4] = i
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .ok_or(ParseError::Incomplete)?;
    let len = u32::from_le_bytes(b) as usize;
    if len < HEADER_LEN {
        return Err(ParseError::Malformed("MS-TSGU packetLength shorter than its header"));
    }
    if len > MAX_PACKET {
        return Err(ParseError::Malformed("MS-TSGU packetLength beyond the bound"));
    }
    Ok(len)
}

type R<'a, T> = nom::IResult<&'a [u8], T, ()>;

/// HTTP_UNICODE_STRING (2.2.10.22): cbLen then UTF-16LE.
fn unicode(i: &[u8]) -> R<'_, String> {
    let (i, n) = le_u16(i)?;
    let (i, s) = take(n)(i)?;
    let text = crate::proto::ntlm::utf16_text(s);
    Ok((i, text.trim_end_matches('\0').chars().take(MAX_NAME).collect()))
}

/// The packet of exactly `i` (one whole packet, header included).
pub fn parse(i: &[u8]) -> ParseResult<Packet<'_>> {
    let len = packet_len(i)?;
    let p = i.get(..len).ok_or(ParseError::Incomplete)?;
    let ty = u16::from_le_bytes([p.first().copied().unwrap_or(0), p.get(1).copied().unwrap_or(0)]);
    let body = p.get(HEADER_LEN..).unwrap_or_default();
    body_of(ty, body).map_err(|_| ParseError::Malformed("MS-TSGU packet body shorter than its fields"))
}

fn body_of(ty: u16, b: &[u8]) -> Result<Packet<'_>, nom::Err<()>> {
    Ok(match ty {
        PKT_TYPE_HANDSHAKE_REQUEST => {
            let (b, ver_major) = le_byte(b)?;
            let (b, ver_minor) = le_byte(b)?;
            let (b, client_version) = le_u16(b)?;
            let (_, extended_auth) = le_u16(b)?;
            Packet::HandshakeRequest {
                ver_major,
                ver_minor,
                client_version,
                extended_auth,
            }
        }
        PKT_TYPE_HANDSHAKE_RESPONSE => {
            let (b, error) = le_u32(b)?;
            let (b, ver_major) = le_byte(b)?;
            let (b, ver_minor) = le_byte(b)?;
            let (b, server_version) = le_u16(b)?;
            let (_, extended_auth) = le_u16(b)?;
            Packet::HandshakeResponse {
                error,
                ver_major,
                ver_minor,
                server_version,
                extended_auth,
            }
        }
        PKT_TYPE_EXTENDED_AUTH_MSG => {
            let (_, n) = le_u16(b)?;
            Packet::ExtendedAuth { len: usize::from(n) }
        }
        PKT_TYPE_TUNNEL_CREATE => {
            let (b, caps) = le_u32(b)?;
            let (_, fields) = le_u16(b)?;
            Packet::TunnelCreate { caps, fields }
        }
        PKT_TYPE_TUNNEL_RESPONSE => {
            let (b, server_version) = le_u16(b)?;
            let (b, status) = le_u32(b)?;
            let (b, fields) = le_u16(b)?;
            let (b, _reserved) = le_u16(b)?;
            let (b, tunnel_id) = opt_u32(b, fields & TUNNEL_RESPONSE_FIELD_TUNNEL_ID != 0)?;
            let (_, caps) = opt_u32(b, fields & TUNNEL_RESPONSE_FIELD_CAPS != 0)?;
            Packet::TunnelResponse {
                server_version,
                status,
                fields,
                tunnel_id,
                caps,
            }
        }
        PKT_TYPE_TUNNEL_AUTH => {
            let (b, fields) = le_u16(b)?;
            let (b, n) = le_u16(b)?;
            let (_, name) = take(n)(b)?;
            let client_name = crate::proto::ntlm::utf16_text(name)
                .trim_end_matches('\0')
                .chars()
                .take(MAX_NAME)
                .collect();
            Packet::TunnelAuth { fields, client_name }
        }
        PKT_TYPE_TUNNEL_AUTH_RESPONSE => {
            let (b, error) = le_u32(b)?;
            let (b, fields) = le_u16(b)?;
            let (b, _reserved) = le_u16(b)?;
            let (b, redir_flags) = opt_u32(b, fields & TUNNEL_AUTH_RESPONSE_FIELD_REDIR_FLAGS != 0)?;
            let (_, idle_timeout_min) = opt_u32(b, fields & TUNNEL_AUTH_RESPONSE_FIELD_IDLE_TIMEOUT != 0)?;
            Packet::TunnelAuthResponse {
                error,
                fields,
                redir_flags,
                idle_timeout_min,
            }
        }
        PKT_TYPE_CHANNEL_CREATE => {
            let (b, n_res) = le_byte(b)?;
            let (b, n_alt) = le_byte(b)?;
            let (b, port) = le_u16(b)?;
            let (mut b, protocol) = le_u16(b)?;
            let mut resources = Vec::new();
            for _ in 0..(usize::from(n_res) + usize::from(n_alt)) {
                let (r, name) = unicode(b)?;
                b = r;
                if resources.len() < MAX_RESOURCES {
                    resources.push(name);
                }
            }
            Packet::ChannelCreate {
                resources,
                port,
                protocol,
            }
        }
        PKT_TYPE_CHANNEL_RESPONSE => {
            let (b, error) = le_u32(b)?;
            let (b, fields) = le_u16(b)?;
            let (b, _reserved) = le_u16(b)?;
            let (b, channel_id) = opt_u32(b, fields & CHANNEL_RESPONSE_FIELD_CHANNELID != 0)?;
            let udp_port = if fields & CHANNEL_RESPONSE_FIELD_UDPPORT != 0 {
                Some(le_u16(b)?.1)
            } else {
                None
            };
            Packet::ChannelResponse {
                error,
                fields,
                channel_id,
                udp_port,
            }
        }
        PKT_TYPE_DATA => {
            let (b, n) = le_u16(b)?;
            let (_, d) = take(n)(b)?;
            Packet::Data(d)
        }
        PKT_TYPE_SERVICE_MESSAGE => {
            let (_, n) = le_u16(b)?;
            Packet::ServiceMessage { len: usize::from(n) }
        }
        PKT_TYPE_REAUTH_MESSAGE => Packet::Reauth { context: le_u64(b)?.1 },
        PKT_TYPE_KEEPALIVE => Packet::Keepalive,
        PKT_TYPE_CLOSE_CHANNEL => Packet::CloseChannel { status: le_u32(b)?.1 },
        PKT_TYPE_CLOSE_CHANNEL_RESPONSE => Packet::CloseChannelResponse { status: le_u32(b)?.1 },
        other => Packet::Other(other),
    })
}

fn opt_u32(b: &[u8], present: bool) -> R<'_, Option<u32>> {
    if present {
        let (b, v) = le_u32(b)?;
        Ok((b, Some(v)))
    } else {
        Ok((b, None))
    }
}

/// Names of the status and error codes of MS-TSGU 2.2.6 (HRESULTs, and the HRESULT_CODE
/// low words some packets carry, 3.3.6.2), and the Win32 codes they use. Sorted by code.
#[rustfmt::skip]
static STATUS: &[(u32, &str)] = &[
    (0x0000_0000, "ERROR_SUCCESS"),
    (0x0000_0005, "ERROR_ACCESS_DENIED"),
    (0x0000_00A0, "ERROR_BAD_ARGUMENTS"),
    (0x0000_04CA, "ERROR_GRACEFUL_DISCONNECT"),
    (0x0000_04D4, "E_PROXY_CONNECTIONABORTED"),
    (0x0000_59D8, "E_PROXY_INTERNALERROR"),
    (0x0000_59DA, "E_PROXY_RAP_ACCESSDENIED"),
    (0x0000_59DB, "E_PROXY_NAP_ACCESSDENIED"),
    (0x0000_59DD, "E_PROXY_TS_CONNECTFAILED"),
    (0x0000_59DF, "E_PROXY_ALREADYDISCONNECTED"),
    (0x0000_59E6, "E_PROXY_MAXCONNECTIONSREACHED"),
    (0x0000_59E8, "E_PROXY_NOTSUPPORTED"),
    (0x0000_59E9, "E_PROXY_CAPABILITYMISMATCH"),
    (0x0000_59ED, "E_PROXY_QUARANTINE_ACCESSDENIED"),
    (0x0000_59EE, "E_PROXY_NOCERTAVAILABLE"),
    (0x0000_59F6, "E_PROXY_SESSIONTIMEOUT"),
    (0x0000_59F7, "E_PROXY_COOKIE_BADPACKET"),
    (0x0000_59F8, "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED"),
    (0x0000_59F9, "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD"),
    (0x0000_59FA, "E_PROXY_REAUTH_AUTHN_FAILED"),
    (0x0000_59FB, "E_PROXY_REAUTH_CAP_FAILED"),
    (0x0000_59FC, "E_PROXY_REAUTH_RAP_FAILED"),
    (0x0000_59FD, "E_PROXY_SDR_NOT_SUPPORTED_BY_TS"),
    (0x0000_5A00, "E_PROXY_REAUTH_NAP_FAILED"),
    (0x8007_59D8, "E_PROXY_INTERNALERROR"),
    (0x8007_59DA, "E_PROXY_RAP_ACCESSDENIED"),
    (0x8007_59DB, "E_PROXY_NAP_ACCESSDENIED"),
    (0x8007_59DD, "E_PROXY_TS_CONNECTFAILED"),
    (0x8007_59DF, "E_PROXY_ALREADYDISCONNECTED"),
    (0x8007_59E6, "E_PROXY_MAXCONNECTIONSREACHED"),
    (0x8007_59E8, "E_PROXY_NOTSUPPORTED"),
    (0x8007_59E9, "E_PROXY_CAPABILITYMISMATCH"),
    (0x8007_59ED, "E_PROXY_QUARANTINE_ACCESSDENIED"),
    (0x8007_59EE, "E_PROXY_NOCERTAVAILABLE"),
    (0x8007_59F6, "E_PROXY_SESSIONTIMEOUT"),
    (0x8007_59F7, "E_PROXY_COOKIE_BADPACKET"),
    (0x8007_59F8, "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED"),
    (0x8007_59F9, "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD"),
    (0x8007_59FA, "E_PROXY_REAUTH_AUTHN_FAILED"),
    (0x8007_59FB, "E_PROXY_REAUTH_CAP_FAILED"),
    (0x8007_59FC, "E_PROXY_REAUTH_RAP_FAILED"),
    (0x8007_59FD, "E_PROXY_SDR_NOT_SUPPORTED_BY_TS"),
    (0x8007_5A00, "E_PROXY_REAUTH_NAP_FAILED"),
    (0x8009_030C, "SEC_E_LOGON_DENIED"),
];

/// The name of a status or error code; `None` for a code not in MS-TSGU (shown in hex).
pub fn status_name(code: u32) -> Option<&'static str> {
    super::by_code(STATUS, code, |e| e.0).map(|e| e.1)
}

/// The name, or the code in hex (`0x800759D8` form).
pub fn status_text(code: u32) -> String {
    match status_name(code) {
        Some(n) => n.to_string(),
        None => format!("0x{code:08X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&u32::try_from(body.len() + 8).unwrap().to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    fn u16s(s: &str) -> Vec<u8> {
        let w: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        [u16::try_from(w.len()).unwrap().to_le_bytes().to_vec(), w].concat()
    }

    #[test]
    fn table_is_sorted() {
        assert!(STATUS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn handshake_and_tunnel() {
        let p = pkt(PKT_TYPE_HANDSHAKE_RESPONSE, &[0, 0, 0, 0, 1, 0, 3, 0, 0, 0]);
        assert_eq!(
            parse(&p).unwrap(),
            Packet::HandshakeResponse {
                error: 0,
                ver_major: 1,
                ver_minor: 0,
                server_version: 3,
                extended_auth: 0
            }
        );
        // statusCode E_PROXY_CAPABILITYMISMATCH, fieldsPresent tunnelId|caps.
        let mut b = 1u16.to_le_bytes().to_vec();
        b.extend_from_slice(&0x8007_59E9u32.to_le_bytes());
        b.extend_from_slice(&[3, 0, 0, 0]);
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(&0x3fu32.to_le_bytes());
        let Packet::TunnelResponse {
            status,
            tunnel_id,
            caps,
            ..
        } = parse(&pkt(PKT_TYPE_TUNNEL_RESPONSE, &b)).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (status_text(status).as_str(), tunnel_id, caps),
            ("E_PROXY_CAPABILITYMISMATCH", Some(7), Some(0x3f))
        );
    }

    #[test]
    fn tunnel_auth_response_each_denial() {
        for (code, name) in [
            (0x8007_59DB, "E_PROXY_NAP_ACCESSDENIED"),
            (0x8007_59ED, "E_PROXY_QUARANTINE_ACCESSDENIED"),
            (0x8007_59F8, "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED"),
            (0x8007_59F9, "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD"),
        ] {
            let mut b = u32::to_le_bytes(code).to_vec();
            b.extend_from_slice(&[2, 0, 0, 0]);
            b.extend_from_slice(&30u32.to_le_bytes());
            let Packet::TunnelAuthResponse {
                error,
                idle_timeout_min,
                redir_flags,
                ..
            } = parse(&pkt(PKT_TYPE_TUNNEL_AUTH_RESPONSE, &b)).unwrap()
            else {
                panic!()
            };
            assert_eq!(
                (status_text(error).as_str(), idle_timeout_min, redir_flags),
                (name, Some(30), None)
            );
        }
    }

    #[test]
    fn channel_create_and_response() {
        let mut b = vec![1, 0, 0x3d, 0x0d, 3, 0];
        b.extend_from_slice(&u16s("IT-HELP-TEST.ad.it-help.ninja\0"));
        assert_eq!(
            parse(&pkt(PKT_TYPE_CHANNEL_CREATE, &b)).unwrap(),
            Packet::ChannelCreate {
                resources: vec!["IT-HELP-TEST.ad.it-help.ninja".into()],
                port: 3389,
                protocol: 3
            }
        );
        // E_PROXY_TS_CONNECTFAILED with channelId and udpPort (0x1 | 0x4), spec order.
        let mut b = 0x8007_59DDu32.to_le_bytes().to_vec();
        b.extend_from_slice(&[5, 0, 0, 0, 9, 0, 0, 0, 0x47, 0x0d]);
        assert_eq!(
            parse(&pkt(PKT_TYPE_CHANNEL_RESPONSE, &b)).unwrap(),
            Packet::ChannelResponse {
                error: 0x8007_59DD,
                fields: 5,
                channel_id: Some(9),
                udp_port: Some(3399)
            }
        );
        assert_eq!(status_text(0x8007_59DD), "E_PROXY_TS_CONNECTFAILED");
    }

    #[test]
    fn data_close_and_others() {
        assert_eq!(
            parse(&pkt(PKT_TYPE_DATA, &[3, 0, 1, 2, 3])).unwrap(),
            Packet::Data(&[1, 2, 3])
        );
        assert!(parse(&pkt(PKT_TYPE_DATA, &[9, 0, 1])).is_err());
        let p = pkt(PKT_TYPE_CLOSE_CHANNEL, &0x59F6u32.to_le_bytes());
        assert_eq!(parse(&p).unwrap(), Packet::CloseChannel { status: 0x59F6 });
        assert_eq!(status_text(0x59F6), "E_PROXY_SESSIONTIMEOUT");
        assert_eq!(status_text(0x59FA), "E_PROXY_REAUTH_AUTHN_FAILED");
        assert_eq!(status_text(0x8007_1234), "0x80071234");
        assert_eq!(parse(&pkt(PKT_TYPE_KEEPALIVE, &[])).unwrap(), Packet::Keepalive);
        assert_eq!(parse(&pkt(0x77, &[])).unwrap(), Packet::Other(0x77));
        assert_eq!(packet_len(&[1, 0, 0, 0, 4, 0]), Err(ParseError::Incomplete));
        assert!(packet_len(&[1, 0, 0, 0, 4, 0, 0, 0]).is_err());
        assert!(packet_len(&[1, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_packets_never_panic(ty in 0u16..0x14, body in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = parse(&pkt(ty, &body));
        }
    }
}
