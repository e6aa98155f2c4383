//! MCS domain PDUs that follow the connect exchange (T.125 §7, PER-encoded as in
//! MS-RDPBCGR 2.2.1.5–2.2.1.11): enough to follow standard RDP security to the session,
//! i.e. the Disconnect Provider Ultimatum and the security-header flags of Send Data PDUs
//! (the basic security header, 2.2.8.1.1.2.1, stays cleartext even when the payload is
//! encrypted).

use super::{ParseError, ParseResult};

/// T.125 DomainMCSPDU choice index (the first byte's top six bits).
const DISCONNECT_PROVIDER_ULTIMATUM: u8 = 8;
const SEND_DATA_REQUEST: u8 = 25;
const SEND_DATA_INDICATION: u8 = 26;

/// Security header flags (2.2.8.1.1.2.1) that mark the connection sequence steps.
pub const SEC_EXCHANGE_PKT: u16 = 0x0001;
pub const SEC_INFO_PKT: u16 = 0x0040;
pub const SEC_LICENSE_PKT: u16 = 0x0080;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainPdu {
    /// T.125 DisconnectProviderUltimatum with its reason (0 domain-disconnected,
    /// 1 provider-initiated, 2 token-purged, 3 user-requested, 4 channel-purged).
    DisconnectProviderUltimatum { reason: u8 },
    /// Send Data Request (client) or Indication (server): the channel and the first two
    /// bytes of user data read as security-header flags (meaningful only when the
    /// connection uses standard RDP security with a security header).
    SendData {
        channel: u16,
        sec_flags: Option<u16>,
        len: usize,
    },
    /// Erect Domain, Attach User, Channel Join and the like.
    Other(u8),
}

pub fn parse(i: &[u8]) -> ParseResult<DomainPdu> {
    let first = *i.first().ok_or(ParseError::Incomplete)?;
    let choice = first >> 2;
    match choice {
        DISCONNECT_PROVIDER_ULTIMATUM => {
            // The 3-bit reason straddles the first two bytes.
            let second = i.get(1).copied().unwrap_or(0);
            Ok(DomainPdu::DisconnectProviderUltimatum {
                reason: ((first & 0x03) << 1) | (second >> 7),
            })
        }
        SEND_DATA_REQUEST | SEND_DATA_INDICATION => {
            // initiator (2), channelId (2), dataPriority + segmentation (1), PER length.
            let head = i
                .get(1..6)
                .ok_or(ParseError::Malformed("MCS Send Data header too short"))?;
            let channel = u16::from_be_bytes([head.get(2).copied().unwrap_or(0), head.get(3).copied().unwrap_or(0)]);
            let (len, at) = match i.get(6).copied() {
                Some(b) if b & 0x80 != 0 => {
                    let lo = i.get(7).copied().ok_or(ParseError::Malformed("MCS length too short"))?;
                    (usize::from(b & 0x3f) << 8 | usize::from(lo), 8)
                }
                Some(b) => (usize::from(b), 7),
                None => return Err(ParseError::Malformed("MCS Send Data without length")),
            };
            let sec_flags = i
                .get(at..at + 2)
                .and_then(|b| b.try_into().ok())
                .map(u16::from_le_bytes);
            Ok(DomainPdu::SendData {
                channel,
                sec_flags,
                len,
            })
        }
        other => Ok(DomainPdu::Other(other)),
    }
}

/// The name of a DomainMCSPDU choice of the connection sequence (T.125 section 11, the
/// choices MS-RDPBCGR 2.2.1.5-2.2.1.9 use), or None for one it does not use.
pub fn domain_pdu_name(choice: u8) -> Option<&'static str> {
    Some(match choice {
        1 => "Erect Domain Request",
        10 => "Attach User Request",
        11 => "Attach User Confirm",
        14 => "Channel Join Request",
        15 => "Channel Join Confirm",
        _ => return None,
    })
}

pub fn ultimatum_reason_name(reason: u8) -> &'static str {
    match reason {
        0 => "domain disconnected",
        1 => "provider initiated",
        2 => "token purged",
        3 => "user requested",
        4 => "channel purged",
        _ => "unknown reason",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ultimatum_and_send_data() {
        // Disconnect Provider Ultimatum, reason 3 (user requested): 0x21 0x80.
        assert_eq!(
            parse(&[0x21, 0x80]),
            Ok(DomainPdu::DisconnectProviderUltimatum { reason: 3 })
        );
        // Send Data Indication on channel 1003 carrying a licensing PDU (flags 0x0080).
        let sdi = [0x68, 0x00, 0x01, 0x03, 0xeb, 0x70, 0x81, 0x08, 0x80, 0x00, 0x00, 0x00];
        assert_eq!(
            parse(&sdi),
            Ok(DomainPdu::SendData {
                channel: 1003,
                sec_flags: Some(0x0080),
                len: 264
            })
        );
        assert_eq!(parse(&[0x04, 0x01]), Ok(DomainPdu::Other(1)));
        assert!(parse(&[0x64, 0x00]).is_err());
        assert!(parse(&[]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse(&data);
        }
    }
}
