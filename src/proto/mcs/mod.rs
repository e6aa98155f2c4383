//! Cleartext MCS connect PDUs of standard RDP security: the T.125 MCS Connect-Initial /
//! Connect-Response (BER), the T.124 GCC Conference Create Request / Response (PER) they
//! carry, and the MS-RDPBCGR client and server data blocks (2.2.1.3 / 2.2.1.4) inside.
//!
//! Input is always the user data of an X.224 Data TPDU (after TPKT + `02 F0 80`).
//!
//! The GCC layer is not decoded field by field: like Zeek and FreeRDP we locate the H.221
//! non-standard key (`Duca` from the client, `McDn` from the server), read the PER length
//! that follows it and walk the `TS_UD_HEADER` blocks. Real stacks vary in the GCC
//! preamble, while the key and the blocks are what every implementation agrees on.

use super::{ParseError, ParseResult};

mod ber;
pub mod builds;
mod client;
pub mod domain;
mod gcc;
mod server;

pub use client::parse_connect_initial;
pub use server::parse_connect_response;
#[cfg(test)]
use server::parse_server_security;

/// Most static virtual channels a client may request (MS-RDPBCGR 2.2.1.3.4, CHANNEL_MAX_COUNT).
pub(super) const MAX_CHANNELS: u32 = 31;

/// MCS Connect-Initial as sent by the client, reduced to what the RDP user data says.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ConnectInitial {
    /// TS_UD_CS_CORE (2.2.1.3.2).
    pub client_core: Option<ClientCore>,
    /// TS_UD_CS_SEC (2.2.1.3.3).
    pub client_security: Option<ClientSecurity>,
    /// Static virtual channel names from TS_UD_CS_NET (2.2.1.3.4), at most 31.
    pub channels: Vec<String>,
}

/// Client Core Data, TS_UD_CS_CORE (MS-RDPBCGR 2.2.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ClientCore {
    /// RDP version: 0x00080001 = RDP 4.0, 0x00080004 = RDP 5.0 to 8.1, 0x0008000C = 10.x ...
    pub version: u32,
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub keyboard_layout: u32,
    /// Client build number (e.g. 2600 for Windows XP, 6000 for the RDP 6.0 client).
    pub client_build: u32,
    /// `clientName`: UTF-16LE, 32 bytes, cut at the first NUL, lossy.
    pub client_name: String,
    pub keyboard_type: Option<u32>,
    /// Effective colour depth in bits per pixel: `highColorDepth` if present, else the
    /// `postBeta2ColorDepth` or `colorDepth` code mapped to bpp; `None` for unknown codes.
    pub color_depth: Option<u16>,
    /// `earlyCapabilityFlags` (unknown bits kept).
    pub early_capability_flags: Option<u16>,
    /// `clientDigProductId`: UTF-16LE, 64 bytes, NUL-trimmed; `None` if absent or blank.
    pub dig_product_id: Option<String>,
    /// `connectionType` (1 = modem ... 7 = autodetect).
    pub connection_type: Option<u8>,
    /// `serverSelectedProtocol`: the protocol the server picked in the X.224 negotiation,
    /// echoed back by the client (0 = standard RDP security).
    pub requested_protocols: Option<u32>,
}

/// Client Security Data, TS_UD_CS_SEC (MS-RDPBCGR 2.2.1.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ClientSecurity {
    /// Bit set of the `*_ENCRYPTION_FLAG` values the client supports (unknown bits kept).
    pub encryption_methods: u32,
    /// Only used by French-locale clients (then `encryption_methods` is 0).
    pub ext_encryption_methods: u32,
}

/// MCS Connect-Response as sent by the server.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ConnectResponse {
    /// T.125 `Result`: 0 = rt-successful, anything else is a refusal.
    pub result: u8,
    /// TS_UD_SC_CORE (2.2.1.4.2).
    pub server_core: Option<ServerCore>,
    /// TS_UD_SC_SEC1 (2.2.1.4.3).
    pub server_security: Option<ServerSecurity>,
}

/// Server Core Data, TS_UD_SC_CORE (MS-RDPBCGR 2.2.1.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ServerCore {
    pub version: u32,
    /// The `requestedProtocols` from the client's X.224 request, as the server saw them.
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
}

/// Server Security Data, TS_UD_SC_SEC1 (MS-RDPBCGR 2.2.1.4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ServerSecurity {
    /// One `*_ENCRYPTION_FLAG` value, see [`encryption_method_name`].
    pub encryption_method: u32,
    /// See [`encryption_level_name`].
    pub encryption_level: u32,
    /// `None` when the server sent none (method and level 0) or it could not be read.
    pub certificate: Option<ServerCertificate>,
}

/// Server Certificate, SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ServerCertificate {
    /// PROPRIETARYSERVERCERTIFICATE (2.2.1.4.3.1.1); `key_bits` is the RSA `bitlen`.
    Proprietary { key_bits: Option<u32> },
    /// X.509 certificate chain (5.3.3.2). `count` is the announced `NumCertBlobs`;
    /// `leaf_der` is the last blob, which is the server's own certificate.
    /// `permanent` is false when the `t` bit marks the chain as temporarily issued.
    X509Chain {
        count: u32,
        leaf_der: Vec<u8>,
        permanent: bool,
    },
}

/// Human name of a TS_UD_SC_SEC1 `encryptionMethod` value.
pub fn encryption_method_name(m: u32) -> String {
    match m {
        0 => "none".into(),
        0x01 => "40bit".into(),
        0x02 => "128bit".into(),
        0x08 => "56bit".into(),
        0x10 => "fips".into(),
        other => format!("0x{other:x}"),
    }
}

/// Human name of a TS_UD_SC_SEC1 `encryptionLevel` value.
pub fn encryption_level_name(l: u32) -> String {
    match l {
        0 => "none".into(),
        1 => "low".into(),
        2 => "client_compatible".into(),
        3 => "high".into(),
        4 => "fips".into(),
        other => format!("0x{other:x}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
