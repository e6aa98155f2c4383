//! Licensing PDUs (MS-RDPBCGR 2.2.1.12, MS-RDPELE 2.2.2): the preamble of every message,
//! and the Error Alert (LICENSE_ERROR_MESSAGE, 2.2.1.12.1.3) that ends most licensing
//! exchanges, `STATUS_VALID_CLIENT` included.

use crate::proto::{ParseError, ParseResult};

/// bMsgType of the LICENSE_PREAMBLE (2.2.1.12.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseMsgType {
    LicenseRequest,
    PlatformChallenge,
    NewLicense,
    UpgradeLicense,
    LicenseInfo,
    NewLicenseRequest,
    PlatformChallengeResponse,
    ErrorAlert,
    Other(u8),
}

impl LicenseMsgType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x01 => Self::LicenseRequest,
            0x02 => Self::PlatformChallenge,
            0x03 => Self::NewLicense,
            0x04 => Self::UpgradeLicense,
            0x12 => Self::LicenseInfo,
            0x13 => Self::NewLicenseRequest,
            0x15 => Self::PlatformChallengeResponse,
            0xFF => Self::ErrorAlert,
            other => Self::Other(other),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::LicenseRequest => "LICENSE_REQUEST",
            Self::PlatformChallenge => "PLATFORM_CHALLENGE",
            Self::NewLicense => "NEW_LICENSE",
            Self::UpgradeLicense => "UPGRADE_LICENSE",
            Self::LicenseInfo => "LICENSE_INFO",
            Self::NewLicenseRequest => "NEW_LICENSE_REQUEST",
            Self::PlatformChallengeResponse => "PLATFORM_CHALLENGE_RESPONSE",
            Self::ErrorAlert => "ERROR_ALERT",
            Self::Other(_) => "unknown",
        }
    }
}

/// dwErrorCode of LICENSE_ERROR_MESSAGE (2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseErrorCode {
    InvalidServerCertificate,
    NoLicense,
    InvalidMac,
    InvalidScope,
    NoLicenseServer,
    /// Not an error: the client holds a valid license (or none is needed), licensing is done.
    ValidClient,
    InvalidClient,
    InvalidProductId,
    InvalidMessageLen,
    Other(u32),
}

impl LicenseErrorCode {
    pub fn from_u32(v: u32) -> Self {
        match v {
            0x01 => Self::InvalidServerCertificate,
            0x02 => Self::NoLicense,
            0x03 => Self::InvalidMac,
            0x04 => Self::InvalidScope,
            0x06 => Self::NoLicenseServer,
            0x07 => Self::ValidClient,
            0x08 => Self::InvalidClient,
            0x0B => Self::InvalidProductId,
            0x0C => Self::InvalidMessageLen,
            other => Self::Other(other),
        }
    }

    /// dwErrorCode as sent.
    pub fn code(self) -> u32 {
        match self {
            Self::InvalidServerCertificate => 0x01,
            Self::NoLicense => 0x02,
            Self::InvalidMac => 0x03,
            Self::InvalidScope => 0x04,
            Self::NoLicenseServer => 0x06,
            Self::ValidClient => 0x07,
            Self::InvalidClient => 0x08,
            Self::InvalidProductId => 0x0B,
            Self::InvalidMessageLen => 0x0C,
            Self::Other(v) => v,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidServerCertificate => "ERR_INVALID_SERVER_CERTIFICATE",
            Self::NoLicense => "ERR_NO_LICENSE",
            Self::InvalidMac => "ERR_INVALID_MAC",
            Self::InvalidScope => "ERR_INVALID_SCOPE",
            Self::NoLicenseServer => "ERR_NO_LICENSE_SERVER",
            Self::ValidClient => "STATUS_VALID_CLIENT",
            Self::InvalidClient => "ERR_INVALID_CLIENT",
            Self::InvalidProductId => "ERR_INVALID_PRODUCTID",
            Self::InvalidMessageLen => "ERR_INVALID_MESSAGE_LEN",
            Self::Other(_) => "unknown",
        }
    }
}

/// dwStateTransition of LICENSE_ERROR_MESSAGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateTransition {
    TotalAbort,
    NoTransition,
    ResetPhaseToStart,
    ResendLastMessage,
    Other(u32),
}

impl StateTransition {
    pub fn from_u32(v: u32) -> Self {
        match v {
            1 => Self::TotalAbort,
            2 => Self::NoTransition,
            3 => Self::ResetPhaseToStart,
            4 => Self::ResendLastMessage,
            other => Self::Other(other),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::TotalAbort => "ST_TOTAL_ABORT",
            Self::NoTransition => "ST_NO_TRANSITION",
            Self::ResetPhaseToStart => "ST_RESET_PHASE_TO_START",
            Self::ResendLastMessage => "ST_RESEND_LAST_MESSAGE",
            Self::Other(_) => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicensePdu {
    pub msg_type: LicenseMsgType,
    /// Preamble flags: the low nibble is the version (2 or 3), 0x80 EXTENDED_ERROR_MSG_SUPPORTED.
    pub flags: u8,
    pub msg_size: u16,
    /// For an Error Alert: `(dwErrorCode, dwStateTransition)`.
    pub error: Option<(LicenseErrorCode, StateTransition)>,
}

/// Decodes a licensing PDU (after the basic security header).
pub fn parse(i: &[u8]) -> ParseResult<LicensePdu> {
    let (&t, &flags) = match i {
        [t, f, ..] => (t, f),
        _ => return Err(ParseError::Malformed("licensing preamble too short")),
    };
    let msg_size = i
        .get(2..4)
        .map(|b| u16::from_le_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]))
        .ok_or(ParseError::Malformed("licensing preamble too short"))?;
    let msg_type = LicenseMsgType::from_u8(t);
    let error = if msg_type == LicenseMsgType::ErrorAlert {
        let word = |at: usize| {
            i.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or(ParseError::Malformed("licensing Error Alert too short"))
        };
        Some((
            LicenseErrorCode::from_u32(word(4)?),
            StateTransition::from_u32(word(8)?),
        ))
    } else {
        None
    };
    Ok(LicensePdu {
        msg_type,
        flags,
        msg_size,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_client() {
        // Error Alert from the Windows capture (after its security header): STATUS_VALID_CLIENT,
        // ST_NO_TRANSITION, empty error blob of type BB_ERROR_BLOB (4).
        let b = [0xff, 0x03, 0x10, 0x00, 7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0];
        let p = parse(&b).unwrap();
        assert_eq!(p.msg_type.name(), "ERROR_ALERT");
        assert_eq!(
            p.error,
            Some((LicenseErrorCode::ValidClient, StateTransition::NoTransition))
        );
        assert_eq!(
            p.error.map(|(e, s)| (e.name(), s.name())),
            Some(("STATUS_VALID_CLIENT", "ST_NO_TRANSITION"))
        );
        assert!(parse(&b[..9]).is_err());
        assert_eq!(
            parse(&[0x01, 0x03, 0x20, 0x01]).map(|p| p.msg_type),
            Ok(LicenseMsgType::LicenseRequest)
        );
    }
}
