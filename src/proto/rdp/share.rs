//! Slow-path PDUs on the I/O channel: the Share Control Header (MS-RDPBCGR 2.2.8.1.1.1.1)
//! and what it carries — Demand Active / Confirm Active (2.2.1.13), Deactivate All
//! (2.2.3.1), Server Redirection (2.2.13), and Data PDUs (Share Data Header 2.2.8.1.1.1.2)
//! with Set Error Info (2.2.5.1), Save Session Info (2.2.10.1), Shutdown Request / Denied
//! (2.2.2.1 / 2.2.2.2) and the finalization PDUs by name.

use crate::proto::ntlm::utf16_text;
use crate::proto::{ParseError, ParseResult};

/// Source descriptors are cut to this many characters ("MSTSC", "RDP").
pub const MAX_SOURCE_DESCRIPTOR: usize = 64;
/// Names kept from Save Session Info and redirection are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 256;

fn u16_at(i: &[u8], at: usize) -> ParseResult<u16> {
    i.get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
        .ok_or(ParseError::Malformed("share PDU too short"))
}

fn u32_at(i: &[u8], at: usize) -> ParseResult<u32> {
    i.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(ParseError::Malformed("share PDU too short"))
}

fn slice(i: &[u8], at: usize, len: usize) -> ParseResult<&[u8]> {
    let end = at
        .checked_add(len)
        .ok_or(ParseError::Malformed("share PDU length overflows"))?;
    i.get(at..end)
        .ok_or(ParseError::Malformed("share PDU field beyond its data"))
}

fn utf16(b: &[u8]) -> String {
    utf16_text(b)
        .trim_end_matches('\0')
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

/// pduType (low nibble of the Share Control Header's pduType field).
pub const PDUTYPE_DEMANDACTIVEPDU: u16 = 0x1;
pub const PDUTYPE_CONFIRMACTIVEPDU: u16 = 0x3;
pub const PDUTYPE_DEACTIVATEALLPDU: u16 = 0x6;
pub const PDUTYPE_DATAPDU: u16 = 0x7;
pub const PDUTYPE_SERVER_REDIR_PKT: u16 = 0xA;

/// Whether `i` plausibly starts with a Share Control Header: a pduType with
/// TS_PROTOCOL_VERSION (0x10) in its upper bits and a known type, and a totalLength that
/// fits. Used to tell it from a basic security header under Enhanced RDP Security, where
/// only some PDUs carry one (5.4.1).
pub fn looks_like_share_control(i: &[u8]) -> bool {
    match (u16_at(i, 0), u16_at(i, 2)) {
        (Ok(total), Ok(t)) => {
            t & 0xFFF0 == 0x0010
                && matches!(t & 0xF, 1 | 3 | 6 | 7 | 0xA)
                && usize::from(total) >= 6
                && usize::from(total) <= i.len()
        }
        _ => false,
    }
}

/// A slow-path PDU behind a Share Control Header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharePdu {
    DemandActive {
        share_id: u32,
        source_descriptor: String,
        number_capabilities: u16,
    },
    ConfirmActive {
        share_id: u32,
        originator_id: u16,
        source_descriptor: String,
        number_capabilities: u16,
    },
    DeactivateAll {
        share_id: u32,
    },
    ServerRedirection(Redirection),
    Data {
        share_id: u32,
        pdu_type2: u8,
        data: DataPdu,
    },
    /// Flow control PDUs (2.2.8.1.1.1.1: flowMarker 0x8000 instead of a totalLength).
    Flow,
    Other {
        pdu_type: u16,
    },
}

/// Decodes a slow-path PDU starting at its Share Control Header.
pub fn parse(i: &[u8]) -> ParseResult<SharePdu> {
    if u16_at(i, 0)? == 0x8000 {
        return Ok(SharePdu::Flow);
    }
    let total = usize::from(u16_at(i, 0)?);
    let pdu_type = u16_at(i, 2)? & 0xF;
    // Some servers pad after totalLength; never read beyond it.
    let pdu = i.get(..total.min(i.len())).unwrap_or_default();
    match pdu_type {
        PDUTYPE_DEMANDACTIVEPDU => {
            // pduSource(2) at 4, shareId(4) at 6, lengthSourceDescriptor(2) at 10,
            // lengthCombinedCapabilities(2) at 12, sourceDescriptor at 14.
            let share_id = u32_at(pdu, 6)?;
            let (source_descriptor, number_capabilities) = descriptor_and_caps(pdu, 10)?;
            Ok(SharePdu::DemandActive {
                share_id,
                source_descriptor,
                number_capabilities,
            })
        }
        PDUTYPE_CONFIRMACTIVEPDU => {
            // ... shareId(4) at 6, originatorId(2) at 10, lengthSourceDescriptor at 12.
            let share_id = u32_at(pdu, 6)?;
            let originator_id = u16_at(pdu, 10)?;
            let (source_descriptor, number_capabilities) = descriptor_and_caps(pdu, 12)?;
            Ok(SharePdu::ConfirmActive {
                share_id,
                originator_id,
                source_descriptor,
                number_capabilities,
            })
        }
        PDUTYPE_DEACTIVATEALLPDU => Ok(SharePdu::DeactivateAll {
            share_id: u32_at(pdu, 6)?,
        }),
        // 2.2.13.3.1: Share Control Header, pad2Octets, then RDP_SERVER_REDIRECTION_PACKET.
        PDUTYPE_SERVER_REDIR_PKT => {
            parse_redirection(pdu.get(8..).unwrap_or_default()).map(SharePdu::ServerRedirection)
        }
        PDUTYPE_DATAPDU => parse_data(pdu),
        other => Ok(SharePdu::Other { pdu_type: other }),
    }
}

/// lengthSourceDescriptor at `at`, then lengthCombinedCapabilities, sourceDescriptor and
/// numberCapabilities (2.2.1.13.1.1 / 2.2.1.13.2.1).
fn descriptor_and_caps(pdu: &[u8], at: usize) -> ParseResult<(String, u16)> {
    let len = usize::from(u16_at(pdu, at)?);
    let desc = slice(pdu, at + 4, len)?;
    let text: String = desc
        .iter()
        .take_while(|&&c| c != 0)
        .take(MAX_SOURCE_DESCRIPTOR)
        .map(|&c| char::from(c))
        .collect();
    Ok((text, u16_at(pdu, at + 4 + len)?))
}

/// pduType2 names (2.2.8.1.1.1.2).
pub fn pdu_type2_name(t: u8) -> &'static str {
    match t {
        2 => "Update",
        20 => "Control",
        27 => "Pointer",
        28 => "Input",
        31 => "Synchronize",
        33 => "Refresh Rect",
        34 => "Play Sound",
        35 => "Suppress Output",
        36 => "Shutdown Request",
        37 => "Shutdown Denied",
        38 => "Save Session Info",
        39 => "Font List",
        40 => "Font Map",
        41 => "Set Keyboard Indicators",
        43 => "Persistent Key List",
        44 => "Bitmap Cache Error",
        45 => "Set Keyboard IME Status",
        46 => "Offscreen Cache Error",
        47 => "Set Error Info",
        48 => "DrawNineGrid Cache Error",
        49 => "DrawGdiPlus Error",
        50 => "Auto-Reconnect Status",
        54 => "Status Info",
        55 => "Monitor Layout",
        _ => "unknown",
    }
}

/// What a Data PDU carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPdu {
    /// errorInfo, see [`crate::proto::errinfo`].
    SetErrorInfo(u32),
    SaveSessionInfo(SessionInfo),
    ShutdownRequest,
    ShutdownDenied,
    Synchronize,
    /// Control PDU action: 1 request control, 2 granted control, 3 detach, 4 cooperate.
    Control(u16),
    FontList,
    FontMap,
    /// Bulk-compressed payload (compressedType has PACKET_COMPRESSED): not decompressed.
    Compressed,
    /// Any other pduType2, skipped with its length.
    Skipped(usize),
}

/// Control PDU action names (2.2.1.15.1).
pub fn control_action_name(a: u16) -> &'static str {
    match a {
        1 => "Request Control",
        2 => "Granted Control",
        3 => "Detach",
        4 => "Cooperate",
        _ => "unknown",
    }
}

fn parse_data(pdu: &[u8]) -> ParseResult<SharePdu> {
    // Share Data Header after the 6-byte Share Control Header: shareId(4), pad1, streamId,
    // uncompressedLength(2), pduType2, compressedType, compressedLength(2) = 18 bytes.
    let share_id = u32_at(pdu, 6)?;
    let pdu_type2 = *pdu
        .get(14)
        .ok_or(ParseError::Malformed("Share Data Header too short"))?;
    let compressed = pdu.get(15).is_some_and(|c| c & 0x20 != 0);
    let body = pdu.get(18..).unwrap_or_default();
    let data = if compressed {
        DataPdu::Compressed
    } else {
        match pdu_type2 {
            47 => DataPdu::SetErrorInfo(u32_at(body, 0)?),
            38 => DataPdu::SaveSessionInfo(parse_session_info(body)?),
            36 => DataPdu::ShutdownRequest,
            37 => DataPdu::ShutdownDenied,
            31 => DataPdu::Synchronize,
            20 => DataPdu::Control(u16_at(body, 0)?),
            39 => DataPdu::FontList,
            40 => DataPdu::FontMap,
            _ => DataPdu::Skipped(body.len()),
        }
    };
    Ok(SharePdu::Data {
        share_id,
        pdu_type2,
        data,
    })
}

/// Save Session Info infoType (2.2.10.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionInfo {
    /// INFOTYPE_LOGON (Logon Info Version 1, 2.2.10.1.1.1).
    Logon {
        domain: String,
        user_name: String,
        session_id: u32,
    },
    /// INFOTYPE_LOGON_LONG (Logon Info Version 2, 2.2.10.1.1.2).
    LogonLong {
        domain: String,
        user_name: String,
        session_id: u32,
    },
    /// INFOTYPE_LOGON_PLAINNOTIFY: the user logged on, nothing more said.
    PlainNotify,
    /// INFOTYPE_LOGON_EXTENDED_INFO (2.2.10.1.1.4): an auto-reconnect cookie (its presence
    /// only) and/or logon errors.
    Extended {
        auto_reconnect_cookie: bool,
        logon_error: Option<LogonError>,
    },
    Other(u32),
}

impl SessionInfo {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Logon { .. } => "INFOTYPE_LOGON",
            Self::LogonLong { .. } => "INFOTYPE_LOGON_LONG",
            Self::PlainNotify => "INFOTYPE_LOGON_PLAINNOTIFY",
            Self::Extended { .. } => "INFOTYPE_LOGON_EXTENDED_INFO",
            Self::Other(_) => "unknown",
        }
    }
}

/// TS_LOGON_ERRORS_INFO (2.2.10.1.1.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogonError {
    /// ErrorNotificationType: an NTSTATUS or one of the LOGON_MSG_* values.
    pub notification_type: u32,
    /// ErrorNotificationData: LOGON_FAILED_* / LOGON_WARNING, or a session id.
    pub notification_data: u32,
}

impl LogonError {
    /// Name of the type: LOGON_MSG_*, or the NTSTATUS name.
    pub fn type_name(self) -> Option<&'static str> {
        match self.notification_type {
            0xFFFF_FFF8 => Some("LOGON_MSG_SESSION_BUSY_OPTIONS"),
            0xFFFF_FFF9 => Some("LOGON_MSG_DISCONNECT_REFUSED"),
            0xFFFF_FFFA => Some("LOGON_MSG_NO_PERMISSION"),
            0xFFFF_FFFB => Some("LOGON_MSG_BUMP_OPTIONS"),
            0xFFFF_FFFC => Some("LOGON_MSG_RECONNECT_OPTIONS"),
            0xFFFF_FFFD => Some("LOGON_MSG_SESSION_TERMINATE"),
            0xFFFF_FFFE => Some("LOGON_MSG_SESSION_CONTINUE"),
            other => crate::proto::ntstatus::name(other),
        }
    }

    /// Name of the data: LOGON_FAILED_* / LOGON_WARNING; `None` means a session id.
    pub fn data_name(self) -> Option<&'static str> {
        match self.notification_data {
            0 => Some("LOGON_FAILED_BAD_PASSWORD"),
            1 => Some("LOGON_FAILED_UPDATE_PASSWORD"),
            2 => Some("LOGON_FAILED_OTHER"),
            3 => Some("LOGON_WARNING"),
            _ => None,
        }
    }
}

fn parse_session_info(b: &[u8]) -> ParseResult<SessionInfo> {
    let info_type = u32_at(b, 0)?;
    let d = b.get(4..).unwrap_or_default();
    Ok(match info_type {
        0 => {
            // cbDomain(4), Domain[52], cbUserName(4), UserName[512], SessionId(4).
            let cb_domain = (u32_at(d, 0)? as usize).min(52);
            let cb_user = (u32_at(d, 56)? as usize).min(512);
            SessionInfo::Logon {
                domain: utf16(slice(d, 4, cb_domain)?),
                user_name: utf16(slice(d, 60, cb_user)?),
                session_id: u32_at(d, 572)?,
            }
        }
        1 => {
            // Version(2), Size(4), SessionId(4), cbDomain(4), cbUserName(4), Pad[558],
            // then Domain and UserName.
            let session_id = u32_at(d, 6)?;
            let cb_domain = u32_at(d, 10)? as usize;
            let cb_user = u32_at(d, 14)? as usize;
            let at = 18 + 558;
            SessionInfo::LogonLong {
                domain: utf16(slice(d, at, cb_domain)?),
                user_name: utf16(slice(d, at + cb_domain, cb_user)?),
                session_id,
            }
        }
        2 => SessionInfo::PlainNotify,
        3 => {
            // Length(2), FieldsPresent(4), then each present field as cbFieldData(4) + data,
            // the auto-reconnect cookie (LOGON_EX_AUTORECONNECTCOOKIE 1) before the logon
            // errors (LOGON_EX_LOGONERRORS 2).
            let present = u32_at(d, 2)?;
            let mut at = 6;
            let mut auto_reconnect_cookie = false;
            if present & 1 != 0 {
                let cb = u32_at(d, at)? as usize;
                slice(d, at + 4, cb)?;
                at = at + 4 + cb;
                auto_reconnect_cookie = true;
            }
            let logon_error = if present & 2 != 0 {
                Some(LogonError {
                    notification_type: u32_at(d, at + 4)?,
                    notification_data: u32_at(d, at + 8)?,
                })
            } else {
                None
            };
            SessionInfo::Extended {
                auto_reconnect_cookie,
                logon_error,
            }
        }
        other => SessionInfo::Other(other),
    })
}

/// Server Redirection packet (RDP_SERVER_REDIRECTION_PACKET, 2.2.13.1): the flags and the
/// first fields. The password / cookie (LB_PASSWORD) is never read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirection {
    pub session_id: u32,
    pub redir_flags: u32,
    pub target_net_address: Option<String>,
    pub load_balance_info_len: Option<usize>,
    pub user_name: Option<String>,
    pub domain: Option<String>,
}

pub const LB_TARGET_NET_ADDRESS: u32 = 0x1;
pub const LB_LOAD_BALANCE_INFO: u32 = 0x2;
pub const LB_USERNAME: u32 = 0x4;
pub const LB_DOMAIN: u32 = 0x8;

/// Decodes RDP_SERVER_REDIRECTION_PACKET (Flags 0x0400, Length, SessionID, RedirFlags, ...).
pub fn parse_redirection(b: &[u8]) -> ParseResult<Redirection> {
    if u16_at(b, 0)? & 0x0400 == 0 {
        return Err(ParseError::Malformed("redirection packet without SEC_REDIRECTION_PKT"));
    }
    let session_id = u32_at(b, 4)?;
    let redir_flags = u32_at(b, 8)?;
    let mut at = 12;
    // The variable fields come in flag order, each as a u32 length then the bytes.
    let mut next = |flag: u32| -> ParseResult<Option<&[u8]>> {
        if redir_flags & flag == 0 {
            return Ok(None);
        }
        let len = u32_at(b, at)? as usize;
        let v = slice(b, at + 4, len)?;
        at = at + 4 + len;
        Ok(Some(v))
    };
    Ok(Redirection {
        session_id,
        redir_flags,
        target_net_address: next(LB_TARGET_NET_ADDRESS)?.map(utf16),
        load_balance_info_len: next(LB_LOAD_BALANCE_INFO)?.map(<[u8]>::len),
        user_name: next(LB_USERNAME)?.map(utf16),
        domain: next(LB_DOMAIN)?.map(utf16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Set Error Info PDU of the Windows Kerberos capture (frame 1167) after its MCS
    /// header: errorInfo 0x0000000B.
    const SET_ERROR_INFO: [u8; 22] = [
        0x16, 0x00, 0x17, 0x00, 0xea, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x16, 0x00, 0x2f, 0x00, 0x00, 0x00,
        0x0b, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn set_error_info() {
        assert!(looks_like_share_control(&SET_ERROR_INFO));
        let p = parse(&SET_ERROR_INFO).unwrap();
        assert_eq!(
            p,
            SharePdu::Data {
                share_id: 0x0001_03ea,
                pdu_type2: 47,
                data: DataPdu::SetErrorInfo(0xB)
            }
        );
        assert!(parse(&SET_ERROR_INFO[..16]).is_err());
        // A basic security header (SEC_LICENSE_PKT, flagsHi 0) is not a share control header.
        assert!(!looks_like_share_control(&[0x80, 0x00, 0x00, 0x00, 0xff, 0x03]));
    }

    #[test]
    fn logon_errors() {
        let mut b = vec![3, 0, 0, 0]; // INFOTYPE_LOGON_EXTENDED_INFO
        b.extend_from_slice(&[14, 0, 2, 0, 0, 0, 8, 0, 0, 0]);
        b.extend_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        let SessionInfo::Extended {
            logon_error: Some(e), ..
        } = parse_session_info(&b).unwrap()
        else {
            panic!("no logon error")
        };
        assert_eq!(e.type_name(), Some("LOGON_MSG_SESSION_CONTINUE"));
        assert_eq!(e.data_name(), Some("LOGON_FAILED_BAD_PASSWORD"));
    }

    #[test]
    fn redirection() {
        let mut b = vec![0x00, 0x04, 0, 0, 7, 0, 0, 0];
        b.extend_from_slice(&(LB_TARGET_NET_ADDRESS | LB_LOAD_BALANCE_INFO | LB_USERNAME).to_le_bytes());
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(b"1\0\0\0");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"abc");
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(b"u\0");
        let r = parse_redirection(&b).unwrap();
        assert_eq!(r.target_net_address.as_deref(), Some("1"));
        assert_eq!(r.load_balance_info_len, Some(3));
        assert_eq!(r.user_name.as_deref(), Some("u"));
        assert_eq!(r.domain, None);
        assert!(parse_redirection(&b[..20]).is_err());
    }
}
