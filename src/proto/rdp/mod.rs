//! RDP PDUs as they travel inside TLS (MS-RDPBCGR), from decrypted application data:
//! - [`next_pdu`] cuts the stream: TPKT (first byte 3, RFC 1006 length) or fast-path
//!   (2.2.8.1.2 / 2.2.9.1.2: action bits 0, length1/length2);
//! - [`decode_tpkt`] decodes one TPKT PDU: X.224 Data, then the MCS PDU — Connect Initial /
//!   Response through the existing [`crate::proto::mcs`] decoder, domain PDUs (T.125 PER)
//!   here — and inside Send Data on the I/O channel the security header, Client Info,
//!   licensing and the Share Control PDUs ([`share`]).
//!
//! Virtual channel data and fast-path PDUs are skipped by length.

pub mod info;
pub mod license;
pub mod share;

use super::mcs::{self, ConnectInitial, ConnectResponse};
use super::{tpkt, x224};
use super::{ParseError, ParseResult};

/// How a PDU in the decrypted stream is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Tpkt,
    FastPath,
}

/// Framing and total length of the next PDU in `buf`. `Incomplete` until the length is
/// readable; the caller then waits for `len` bytes.
pub fn next_pdu(buf: &[u8]) -> ParseResult<(Framing, usize)> {
    match buf {
        [] => Err(ParseError::Incomplete),
        [0x03, ..] => tpkt::pdu_len(buf).map(|l| (Framing::Tpkt, l)),
        // fpOutputHeader / fpInputHeader: action in the two low bits (0 = fast-path).
        [h, ..] if h & 0x03 == 0 => {
            let len = match buf {
                [_, l1, ..] if l1 & 0x80 == 0 => usize::from(*l1),
                [_, l1, l2, ..] => (usize::from(l1 & 0x7f) << 8) | usize::from(*l2),
                _ => return Err(ParseError::Incomplete),
            };
            // The length covers the header itself: anything shorter cannot be a PDU.
            if len < 2 {
                return Err(ParseError::Malformed("fast-path length shorter than its header"));
            }
            Ok((Framing::FastPath, len))
        }
        _ => Err(ParseError::Malformed("neither TPKT nor fast-path")),
    }
}

/// MCS_GLOBAL_CHANNEL, the I/O channel (2.2.1.4.4: MCSChannelId is always 1003).
pub const IO_CHANNEL: u16 = 1003;

/// What the caller knows about the connection's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub io_channel: u16,
    /// The MCS message channel from TS_UD_SC_MCS_MSGCHANNEL, if the server announced one
    /// (auto-detect, heartbeat and multitransport PDUs travel there with a security header).
    pub message_channel: Option<u16>,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            io_channel: IO_CHANNEL,
            message_channel: None,
        }
    }
}

/// T.125 DisconnectProviderUltimatum reason (T.125 §7 Reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UltimatumReason {
    DomainDisconnected,
    ProviderInitiated,
    TokenPurged,
    UserRequested,
    ChannelPurged,
    Other(u8),
}

impl UltimatumReason {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::DomainDisconnected,
            1 => Self::ProviderInitiated,
            2 => Self::TokenPurged,
            3 => Self::UserRequested,
            4 => Self::ChannelPurged,
            other => Self::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::DomainDisconnected => 0,
            Self::ProviderInitiated => 1,
            Self::TokenPurged => 2,
            Self::UserRequested => 3,
            Self::ChannelPurged => 4,
            Self::Other(v) => v,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::DomainDisconnected => "rn-domain-disconnected",
            Self::ProviderInitiated => "rn-provider-initiated",
            Self::TokenPurged => "rn-token-purged",
            Self::UserRequested => "rn-user-requested",
            Self::ChannelPurged => "rn-channel-purged",
            Self::Other(_) => "unknown",
        }
    }
}

/// Security header flags (2.2.8.1.1.2.1) that name a PDU kind.
pub const SEC_EXCHANGE_PKT: u16 = 0x0001;
pub const SEC_TRANSPORT_REQ: u16 = 0x0002;
pub const SEC_TRANSPORT_RSP: u16 = 0x0004;
pub const SEC_ENCRYPT: u16 = 0x0008;
pub const SEC_INFO_PKT: u16 = 0x0040;
pub const SEC_LICENSE_PKT: u16 = 0x0080;
pub const SEC_REDIRECTION_PKT: u16 = 0x0400;
pub const SEC_AUTODETECT_REQ: u16 = 0x1000;
pub const SEC_AUTODETECT_RSP: u16 = 0x2000;
pub const SEC_HEARTBEAT: u16 = 0x4000;

/// Name of the PDU kind a security header's flags announce.
pub fn security_kind_name(flags: u16) -> &'static str {
    match flags {
        f if f & SEC_INFO_PKT != 0 => "Client Info",
        f if f & SEC_LICENSE_PKT != 0 => "Licensing",
        f if f & SEC_EXCHANGE_PKT != 0 => "Security Exchange",
        f if f & SEC_REDIRECTION_PKT != 0 => "Server Redirection",
        f if f & SEC_AUTODETECT_REQ != 0 => "Auto-Detect Request",
        f if f & SEC_AUTODETECT_RSP != 0 => "Auto-Detect Response",
        f if f & SEC_HEARTBEAT != 0 => "Heartbeat",
        f if f & SEC_TRANSPORT_REQ != 0 => "Initiate Multitransport Request",
        f if f & SEC_TRANSPORT_RSP != 0 => "Initiate Multitransport Response",
        _ => "unknown",
    }
}

/// What the user data of a Send Data Request / Indication carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelContent {
    ClientInfo(info::ClientInfo),
    License(license::LicensePdu),
    Share(share::SharePdu),
    /// A PDU announced by its security header flags and not decoded further (auto-detect,
    /// heartbeat, multitransport, security exchange).
    Security {
        flags: u16,
        len: usize,
    },
    /// SEC_ENCRYPT set: Standard RDP Security payload, opaque here.
    Encrypted {
        len: usize,
    },
    /// Static virtual channel data (CHANNEL_PDU_HEADER + chunk), skipped.
    VirtualChannel {
        len: usize,
    },
}

/// One TPKT PDU inside TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdpPdu {
    ConnectInitial(ConnectInitial),
    ConnectResponse(ConnectResponse),
    ErectDomainRequest,
    AttachUserRequest,
    /// `result` 0 is rt-successful; `user_id` is the initiator (channel id, 1001 + n).
    AttachUserConfirm {
        result: u8,
        user_id: Option<u16>,
    },
    ChannelJoinRequest {
        user_id: u16,
        channel_id: u16,
    },
    ChannelJoinConfirm {
        result: u8,
        user_id: u16,
        requested: u16,
        channel_id: Option<u16>,
    },
    DisconnectProviderUltimatum {
        reason: UltimatumReason,
    },
    /// Send Data Request (client, `request` true) or Indication (server).
    SendData {
        request: bool,
        initiator: u16,
        channel_id: u16,
        len: usize,
        content: ChannelContent,
    },
    /// Another DomainMCSPDU choice (T.125 §7), by index.
    McsOther(u8),
    /// An X.224 TPDU other than Data.
    X224Other,
}

/// Decodes one whole TPKT PDU (as cut by [`next_pdu`]).
pub fn decode_tpkt(pdu: &[u8], ctx: &Context) -> ParseResult<RdpPdu> {
    let (payload, _) = tpkt::split(pdu)?;
    let user = match x224::parse(payload)? {
        x224::Tpdu::Data(d) => d,
        _ => return Ok(RdpPdu::X224Other),
    };
    match user {
        [0x7f, 0x65, ..] => mcs::parse_connect_initial(user).map(RdpPdu::ConnectInitial),
        [0x7f, 0x66, ..] => mcs::parse_connect_response(user).map(RdpPdu::ConnectResponse),
        _ => decode_domain(user, ctx),
    }
}

fn be16(i: &[u8], at: usize) -> ParseResult<u16> {
    i.get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or(ParseError::Malformed("MCS PDU too short"))
}

/// T.125 DomainMCSPDU (PER aligned, X.691): the choice index is the first six bits.
fn decode_domain(i: &[u8], ctx: &Context) -> ParseResult<RdpPdu> {
    let first = *i.first().ok_or(ParseError::Malformed("empty MCS PDU"))?;
    let second = i.get(1).copied().unwrap_or(0);
    // A 4-bit Result enumeration after the choice and one optional-field bit straddles the
    // first two octets (MS-RDPBCGR 2.2.1.7 / 2.2.1.9 examples).
    let result = ((first & 0x01) << 3) | (second >> 5);
    Ok(match first >> 2 {
        1 => RdpPdu::ErectDomainRequest,
        8 => RdpPdu::DisconnectProviderUltimatum {
            reason: UltimatumReason::from_u8(((first & 0x03) << 1) | (second >> 7)),
        },
        10 => RdpPdu::AttachUserRequest,
        11 => RdpPdu::AttachUserConfirm {
            result,
            user_id: if first & 0x02 != 0 {
                Some(be16(i, 2)?.wrapping_add(1001))
            } else {
                None
            },
        },
        14 => RdpPdu::ChannelJoinRequest {
            user_id: be16(i, 1)?.wrapping_add(1001),
            channel_id: be16(i, 3)?,
        },
        15 => RdpPdu::ChannelJoinConfirm {
            result,
            user_id: be16(i, 2)?.wrapping_add(1001),
            requested: be16(i, 4)?,
            channel_id: if first & 0x02 != 0 { Some(be16(i, 6)?) } else { None },
        },
        choice @ (25 | 26) => send_data(i, choice == 25, ctx)?,
        other => RdpPdu::McsOther(other),
    })
}

/// Send Data Request / Indication: initiator, channelId, dataPriority + segmentation, a PER
/// length (one octet, or two with the top bit set), then the user data.
fn send_data(i: &[u8], request: bool, ctx: &Context) -> ParseResult<RdpPdu> {
    let initiator = be16(i, 1)?.wrapping_add(1001);
    let channel_id = be16(i, 3)?;
    let (len, at) = match i.get(6).copied() {
        Some(b) if b & 0x80 != 0 => {
            let lo = i.get(7).copied().ok_or(ParseError::Malformed("MCS length too short"))?;
            ((usize::from(b & 0x3f) << 8) | usize::from(lo), 8)
        }
        Some(b) => (usize::from(b), 7),
        None => return Err(ParseError::Malformed("MCS Send Data without length")),
    };
    let data = i
        .get(at..at + len)
        .ok_or(ParseError::Malformed("MCS Send Data longer than its TPKT"))?;
    let content = if channel_id == ctx.io_channel {
        io_content(data)?
    } else if Some(channel_id) == ctx.message_channel {
        match data {
            [lo, hi, ..] => ChannelContent::Security {
                flags: u16::from_le_bytes([*lo, *hi]),
                len: data.len(),
            },
            _ => return Err(ParseError::Malformed("message channel PDU too short")),
        }
    } else {
        ChannelContent::VirtualChannel { len: data.len() }
    };
    Ok(RdpPdu::SendData {
        request,
        initiator,
        channel_id,
        len,
        content,
    })
}

/// The I/O channel under Enhanced RDP Security (5.4.1): Client Info, licensing and a few
/// others carry a basic security header (flags, flagsHi); the Share Control PDUs do not.
fn io_content(d: &[u8]) -> ParseResult<ChannelContent> {
    if share::looks_like_share_control(d) || d.starts_with(&[0x00, 0x80]) {
        return share::parse(d).map(ChannelContent::Share);
    }
    let flags = match d {
        [lo, hi, _, _, ..] => u16::from_le_bytes([*lo, *hi]),
        _ => return Err(ParseError::Malformed("I/O channel PDU too short")),
    };
    let body = d.get(4..).unwrap_or_default();
    Ok(match flags {
        f if f & SEC_ENCRYPT != 0 => ChannelContent::Encrypted { len: d.len() },
        f if f & SEC_INFO_PKT != 0 => ChannelContent::ClientInfo(info::parse(body)?),
        f if f & SEC_LICENSE_PKT != 0 => ChannelContent::License(license::parse(body)?),
        // Standard-security redirection (2.2.13.2.1): the packet follows the header.
        f if f & SEC_REDIRECTION_PKT != 0 => {
            ChannelContent::Share(share::SharePdu::ServerRedirection(share::parse_redirection(body)?))
        }
        // No encryption but a header anyway (Standard Security at level NONE, 5.3.2).
        _ if share::looks_like_share_control(body) => ChannelContent::Share(share::parse(body)?),
        f => ChannelContent::Security { flags: f, len: d.len() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(next_pdu(&[0x03, 0x00, 0x00, 0x09, 0x02]), Ok((Framing::Tpkt, 9)));
        // Fast-path with a one-octet length (the Windows server's 5-byte update).
        assert_eq!(next_pdu(&[0x00, 0x05, 0x05, 0x00, 0x00]), Ok((Framing::FastPath, 5)));
        // Two-octet length: 0x81 0x2c = 300.
        assert_eq!(next_pdu(&[0x44, 0x81, 0x2c]), Ok((Framing::FastPath, 300)));
        assert_eq!(next_pdu(&[0x44, 0x81]), Err(ParseError::Incomplete));
        assert_eq!(next_pdu(&[0x03, 0x00]), Err(ParseError::Incomplete));
        assert!(next_pdu(&[0x16, 0x03]).is_err());
        assert!(next_pdu(&[0x00, 0x01]).is_err());
    }

    #[test]
    fn ultimatum_and_joins() {
        let ctx = Context::default();
        // Frame 1177 of the Windows Kerberos capture: DPUm, reason 3.
        let dpu = [0x03, 0x00, 0x00, 0x09, 0x02, 0xf0, 0x80, 0x21, 0x80];
        assert_eq!(
            decode_tpkt(&dpu, &ctx),
            Ok(RdpPdu::DisconnectProviderUltimatum {
                reason: UltimatumReason::UserRequested
            })
        );
        // Attach User Confirm, result 0, user 1007; Channel Join Confirm for 1007.
        let auc = [0x03, 0x00, 0x00, 0x0b, 0x02, 0xf0, 0x80, 0x2e, 0x00, 0x00, 0x06];
        assert_eq!(
            decode_tpkt(&auc, &ctx),
            Ok(RdpPdu::AttachUserConfirm {
                result: 0,
                user_id: Some(1007)
            })
        );
        let cjc = [
            0x03, 0x00, 0x00, 0x0f, 0x02, 0xf0, 0x80, 0x3e, 0x00, 0x00, 0x06, 0x03, 0xef, 0x03, 0xef,
        ];
        assert_eq!(
            decode_tpkt(&cjc, &ctx),
            Ok(RdpPdu::ChannelJoinConfirm {
                result: 0,
                user_id: 1007,
                requested: 1007,
                channel_id: Some(1007)
            })
        );
        let cjr = [0x03, 0x00, 0x00, 0x0c, 0x02, 0xf0, 0x80, 0x38, 0x00, 0x06, 0x03, 0xeb];
        assert_eq!(
            decode_tpkt(&cjr, &ctx),
            Ok(RdpPdu::ChannelJoinRequest {
                user_id: 1007,
                channel_id: 1003
            })
        );
    }

    #[test]
    fn license_and_error_info_on_the_io_channel() {
        let ctx = Context::default();
        // Frame 50 of the Windows Kerberos capture: licensing Error Alert STATUS_VALID_CLIENT.
        let lic = [
            0x03, 0x00, 0x00, 0x22, 0x02, 0xf0, 0x80, 0x68, 0x00, 0x01, 0x03, 0xeb, 0x70, 0x14, 0x80, 0x00, 0x00, 0x00,
            0xff, 0x03, 0x10, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
        ];
        let RdpPdu::SendData {
            request: false,
            initiator: 1002,
            channel_id: 1003,
            content: ChannelContent::License(l),
            ..
        } = decode_tpkt(&lic, &ctx).unwrap()
        else {
            panic!("not a licensing PDU")
        };
        assert_eq!(l.error.map(|(e, _)| e), Some(license::LicenseErrorCode::ValidClient));
        // The same bytes on a virtual channel are skipped.
        let mut vc = lic;
        vc[11] = 0xec;
        assert!(matches!(
            decode_tpkt(&vc, &ctx),
            Ok(RdpPdu::SendData {
                content: ChannelContent::VirtualChannel { len: 20 },
                ..
            })
        ));
        // An MCS length beyond the TPKT is malformed.
        let mut bad = lic;
        bad[13] = 0x40;
        assert!(decode_tpkt(&bad, &ctx).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400), first in 0u8..64, chan in proptest::sample::select(vec![1003u16, 1004, 1007])) {
            let ctx = Context { io_channel: 1003, message_channel: Some(1007) };
            let _ = next_pdu(&data);
            // A well-framed Send Data header around random user data reaches the inner decoders.
            let mut pdu = vec![0x03, 0x00, 0x00, 0x00, 0x02, 0xf0, 0x80, 0x64, 0x00, 0x06];
            pdu.extend_from_slice(&chan.to_be_bytes());
            pdu.push(0x70);
            let n = data.len().min(0x3fff);
            pdu.extend_from_slice(&[0x80 | u8::try_from(n >> 8).unwrap(), u8::try_from(n & 0xff).unwrap()]);
            pdu.extend_from_slice(&data);
            let total = u16::try_from(pdu.len()).unwrap();
            pdu[2..4].copy_from_slice(&total.to_be_bytes());
            let _ = decode_tpkt(&pdu, &ctx);
            let mut raw = vec![0x03, 0x00, 0x00, 0x00, 0x02, 0xf0, 0x80, first << 2];
            raw.extend_from_slice(&data);
            let total = u16::try_from(raw.len()).unwrap();
            raw[2..4].copy_from_slice(&total.to_be_bytes());
            let _ = decode_tpkt(&raw, &ctx);
            let _ = share::parse(&data);
            let _ = info::parse(&data);
            let _ = license::parse(&data);
            let _ = share::parse_redirection(&data);
        }
    }
}
