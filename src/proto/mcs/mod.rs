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
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, le_u16, le_u32, le_u8};
use nom::IResult;

/// Most static virtual channels a client may request (MS-RDPBCGR 2.2.1.3.4, CHANNEL_MAX_COUNT).
const MAX_CHANNELS: u32 = 31;

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

// ---------------------------------------------------------------------------------------
// BER (T.125 is BER-encoded, X.690)
// ---------------------------------------------------------------------------------------

/// A BER definite length: short form, or long form with 1..=4 length octets.
/// Indefinite length (0x80) is not allowed by T.125's use of BER here.
fn ber_length(i: &[u8]) -> IResult<&[u8], usize> {
    let (mut i, first) = be_u8(i)?;
    if first & 0x80 == 0 {
        return Ok((i, usize::from(first)));
    }
    let n = first & 0x7f;
    if n == 0 || n > 4 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::LengthValue,
        )));
    }
    let mut len: usize = 0;
    for _ in 0..n {
        let (rest, b) = be_u8(i)?;
        i = rest;
        len = (len << 8) | usize::from(b);
    }
    Ok((i, len))
}

/// Reads one BER TLV with a single-octet `tag` and returns its content.
/// Only used inside a body whose outer length was already checked, so a content length
/// beyond it is an inconsistency (`Malformed`), not a short read.
fn ber_tlv(tag: u8, i: &[u8]) -> ParseResult<(&[u8], &[u8])> {
    let (i, t) = be_u8::<_, nom::error::Error<&[u8]>>(i)?;
    if t != tag {
        return Err(ParseError::Malformed("MCS: unexpected BER tag"));
    }
    let (i, len) = ber_length(i)?;
    if len > i.len() {
        return Err(ParseError::Malformed("MCS: BER length beyond the enclosing PDU"));
    }
    let (rest, content) = take::<_, _, nom::error::Error<&[u8]>>(len)(i)?;
    Ok((rest, content))
}

/// Reads the two-octet application tag (`7F 65` / `7F 66`) and the length of an MCS
/// connect PDU; returns its body.
/// Input that ends inside the tag or length is `Incomplete`, so a caller fed a prefix of
/// the PDU always hears "need more".
fn mcs_header(app: u8, i: &[u8]) -> ParseResult<&[u8]> {
    match i {
        [] | [0x7f] => return Err(ParseError::Incomplete),
        [0x7f, t, ..] if *t == app => {}
        _ => return Err(ParseError::Malformed("MCS: not a connect PDU")),
    }
    let (i, len) = match ber_length(i.get(2..).unwrap_or_default()) {
        Ok(v) => v,
        Err(nom::Err::Error(e)) if e.code == nom::error::ErrorKind::LengthValue => {
            return Err(ParseError::Malformed("MCS: bad BER length"))
        }
        Err(_) => return Err(ParseError::Incomplete),
    };
    if len > i.len() {
        return Err(ParseError::Incomplete);
    }
    let (_, body) = take::<_, _, nom::error::Error<&[u8]>>(len)(i)?;
    Ok(body)
}

// ---------------------------------------------------------------------------------------
// GCC (T.124, PER)
// ---------------------------------------------------------------------------------------

/// Finds the H.221 non-standard `key` in the GCC bytes and returns the user data
/// OCTET STRING after it (PER length determinant, X.691 10.9).
///
/// A PER length running past the data is clamped rather than rejected, as Zeek does:
/// the blocks themselves carry lengths and are checked one by one.
fn gcc_user_data<'a>(gcc: &'a [u8], key: &[u8; 4]) -> Option<&'a [u8]> {
    let pos = gcc.windows(4).position(|w| w == key)?;
    let after = gcc.get(pos.checked_add(4)?..)?;
    let (rest, first) = be_u8::<_, nom::error::Error<&[u8]>>(after).ok()?;
    let (rest, len) = if first & 0x80 == 0 {
        (rest, usize::from(first))
    } else {
        let (rest, second) = be_u8::<_, nom::error::Error<&[u8]>>(rest).ok()?;
        (rest, (usize::from(first & 0x7f) << 8) | usize::from(second))
    };
    Some(rest.get(..len).unwrap_or(rest))
}

/// Iterates the TS_UD_HEADER blocks (MS-RDPBCGR 2.2.1.3.1): `type` u16 LE, `length` u16 LE
/// including the header. A length under 4 or past the data ends the walk.
fn for_each_block<'a>(mut data: &'a [u8], mut f: impl FnMut(u16, &'a [u8])) {
    while let Ok((rest, (ty, len))) = ud_header(data) {
        let body_len = usize::from(len).saturating_sub(4);
        if len < 4 || body_len > rest.len() {
            break;
        }
        let Ok((rest, body)) = take::<_, _, nom::error::Error<&[u8]>>(body_len)(rest) else {
            break;
        };
        f(ty, body);
        data = rest;
    }
}

fn ud_header(i: &[u8]) -> IResult<&[u8], (u16, u16)> {
    let (i, ty) = le_u16(i)?;
    let (i, len) = le_u16(i)?;
    Ok((i, (ty, len)))
}

/// Decodes a fixed-size UTF-16LE field, cut at the first NUL code unit.
fn utf16_field(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| match c {
            [lo, hi] => u16::from_le_bytes([*lo, *hi]),
            _ => 0,
        })
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Maps the RNS_UD_COLOR_* codes of `colorDepth` / `postBeta2ColorDepth` to bits per pixel.
fn color_code_bpp(code: u16) -> Option<u16> {
    match code {
        0xCA00 => Some(4),
        0xCA01 => Some(8),
        0xCA02 => Some(15),
        0xCA03 => Some(16),
        0xCA04 => Some(24),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

/// Parses an MCS Connect-Initial (T.125 7.2, BER, tag `7F 65`) carrying a GCC Conference
/// Create Request (T.124 8.7) whose `Duca` user data holds the client data blocks
/// (MS-RDPBCGR 2.2.1.3).
///
/// Unknown blocks are skipped. `Incomplete` if the input is shorter than the BER length
/// says; `Malformed` if the PDU is not a Connect-Initial or has no `Duca` key. If the
/// inner BER fields do not walk cleanly, the key is searched in the whole body, as
/// Zeek's positional reader would still find it.
pub fn parse_connect_initial(i: &[u8]) -> ParseResult<ConnectInitial> {
    let body = mcs_header(0x65, i)?;
    let user_data = initial_user_data(body).unwrap_or(body);
    let blocks = gcc_user_data(user_data, b"Duca").ok_or(ParseError::Malformed("GCC: no Duca user data"))?;

    let mut out = ConnectInitial::default();
    for_each_block(blocks, |ty, body| match ty {
        0xC001 => out.client_core = parse_client_core(body).ok(),
        0xC002 => out.client_security = parse_client_security(body).ok(),
        0xC003 => out.channels = parse_client_network(body),
        _ => {}
    });
    Ok(out)
}

/// Connect-Initial fields after the tag (T.125 7.2): callingDomainSelector,
/// calledDomainSelector, upwardFlag, the three DomainParameters, then userData, the only
/// one that matters here.
fn initial_user_data(body: &[u8]) -> ParseResult<&[u8]> {
    let (body, _) = ber_tlv(0x04, body)?;
    let (body, _) = ber_tlv(0x04, body)?;
    let (body, _) = ber_tlv(0x01, body)?;
    let (body, _) = ber_tlv(0x30, body)?;
    let (body, _) = ber_tlv(0x30, body)?;
    let (body, _) = ber_tlv(0x30, body)?;
    let (_, user_data) = ber_tlv(0x04, body)?;
    Ok(user_data)
}

/// TS_UD_CS_CORE (MS-RDPBCGR 2.2.1.3.2), body after the TS_UD_HEADER.
///
/// Fields up to `clientName` are required; every later field is read only if the block
/// is long enough, since each client version stops at a different field.
fn parse_client_core(i: &[u8]) -> ParseResult<ClientCore> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, version) = le_u32::<_, E>(i)?;
    let (i, desktop_width) = le_u16::<_, E>(i)?;
    let (i, desktop_height) = le_u16::<_, E>(i)?;
    let (i, color_code) = le_u16::<_, E>(i)?;
    let (i, _sas_sequence) = le_u16::<_, E>(i)?;
    let (i, keyboard_layout) = le_u32::<_, E>(i)?;
    let (i, client_build) = le_u32::<_, E>(i)?;
    let (i, name) = take::<_, _, E>(32usize)(i)?;

    let mut core = ClientCore {
        version,
        desktop_width,
        desktop_height,
        keyboard_layout,
        client_build,
        client_name: utf16_field(name),
        color_depth: color_code_bpp(color_code),
        ..ClientCore::default()
    };

    // Optional tail: each step stops quietly at the end of the block.
    let Ok((i, keyboard_type)) = le_u32::<_, E>(i) else {
        return Ok(core);
    };
    core.keyboard_type = Some(keyboard_type);
    let Ok((i, _)) = take::<_, _, E>(4 + 4 + 64usize)(i) else {
        return Ok(core);
    }; // subtype, fkeys, imeFileName
    let Ok((i, post_beta2)) = le_u16::<_, E>(i) else {
        return Ok(core);
    };
    if let Some(bpp) = color_code_bpp(post_beta2) {
        core.color_depth = Some(bpp);
    }
    let Ok((i, _)) = take::<_, _, E>(2 + 4usize)(i) else {
        return Ok(core);
    }; // productId, serial
    let Ok((i, high_color)) = le_u16::<_, E>(i) else {
        return Ok(core);
    };
    // highColorDepth is already in bpp; 0 is not a depth.
    if high_color != 0 {
        core.color_depth = Some(high_color);
    }
    let Ok((i, _supported_depths)) = le_u16::<_, E>(i) else {
        return Ok(core);
    };
    let Ok((i, early)) = le_u16::<_, E>(i) else {
        return Ok(core);
    };
    core.early_capability_flags = Some(early);
    let Ok((i, dig)) = take::<_, _, E>(64usize)(i) else {
        return Ok(core);
    };
    let dig = utf16_field(dig);
    core.dig_product_id = (!dig.trim().is_empty()).then_some(dig);
    let Ok((i, connection_type)) = le_u8::<_, E>(i) else {
        return Ok(core);
    };
    core.connection_type = Some(connection_type);
    let Ok((i, _pad)) = le_u8::<_, E>(i) else {
        return Ok(core);
    };
    let Ok((_, selected)) = le_u32::<_, E>(i) else {
        return Ok(core);
    };
    core.requested_protocols = Some(selected);
    Ok(core)
}

/// TS_UD_CS_SEC (MS-RDPBCGR 2.2.1.3.3).
fn parse_client_security(i: &[u8]) -> ParseResult<ClientSecurity> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, encryption_methods) = le_u32::<_, E>(i)?;
    let (_, ext_encryption_methods) = le_u32::<_, E>(i)?;
    Ok(ClientSecurity {
        encryption_methods,
        ext_encryption_methods,
    })
}

/// TS_UD_CS_NET (MS-RDPBCGR 2.2.1.3.4): `channelCount` then CHANNEL_DEF entries
/// (8-byte ANSI name + u32 options). The count is never trusted for allocation: the walk
/// stops at 31 names or at the end of the block, whichever comes first.
fn parse_client_network(i: &[u8]) -> Vec<String> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let Ok((mut i, count)) = le_u32::<_, E>(i) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for _ in 0..count.min(MAX_CHANNELS) {
        let Ok((rest, name)) = take::<_, _, E>(8usize)(i) else {
            break;
        };
        let Ok((rest, _options)) = le_u32::<_, E>(rest) else {
            break;
        };
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        names.push(String::from_utf8_lossy(name.get(..end).unwrap_or(name)).into_owned());
        i = rest;
    }
    names
}

// ---------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------

/// Parses an MCS Connect-Response (T.125 7.2, BER, tag `7F 66`) carrying a GCC Conference
/// Create Response (T.124 8.7) whose `McDn` user data holds the server data blocks
/// (MS-RDPBCGR 2.2.1.4).
///
/// `Incomplete` if the input is shorter than the BER length says; `Malformed` if it is
/// not a Connect-Response or has no one-octet `result`. A refusing server may send no
/// user data: then only `result` is set. As for the request, a `McDn` key is searched in
/// the whole body if the inner BER fields do not walk cleanly.
pub fn parse_connect_response(i: &[u8]) -> ParseResult<ConnectResponse> {
    let body = mcs_header(0x66, i)?;
    let (body, result) = ber_tlv(0x0a, body)?;
    let result = match result {
        [r] => *r,
        _ => return Err(ParseError::Malformed("MCS: result is not one octet")),
    };
    let mut out = ConnectResponse {
        result,
        ..ConnectResponse::default()
    };
    // A refusal may carry no user data; the result alone is still worth reporting.
    let user_data = response_user_data(body).unwrap_or(body);
    let Some(blocks) = gcc_user_data(user_data, b"McDn") else {
        return Ok(out);
    };

    for_each_block(blocks, |ty, body| match ty {
        0x0C01 => out.server_core = parse_server_core(body).ok(),
        0x0C02 => out.server_security = parse_server_security(body).ok(),
        _ => {}
    });
    Ok(out)
}

/// Connect-Response fields after `result` (T.125 7.2): calledConnectId,
/// domainParameters, userData.
fn response_user_data(body: &[u8]) -> ParseResult<&[u8]> {
    let (body, _) = ber_tlv(0x02, body)?;
    let (body, _) = ber_tlv(0x30, body)?;
    let (_, user_data) = ber_tlv(0x04, body)?;
    Ok(user_data)
}

/// TS_UD_SC_CORE (MS-RDPBCGR 2.2.1.4.2): `version`, then optional
/// `clientRequestedProtocols` and `earlyCapabilityFlags` (old servers send 8-byte blocks).
fn parse_server_core(i: &[u8]) -> ParseResult<ServerCore> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, version) = le_u32::<_, E>(i)?;
    let mut core = ServerCore {
        version,
        ..ServerCore::default()
    };
    let Ok((i, requested)) = le_u32::<_, E>(i) else {
        return Ok(core);
    };
    core.client_requested_protocols = Some(requested);
    let Ok((_, early)) = le_u32::<_, E>(i) else {
        return Ok(core);
    };
    core.early_capability_flags = Some(early);
    Ok(core)
}

/// TS_UD_SC_SEC1 (MS-RDPBCGR 2.2.1.4.3). With method and level both 0 the block ends
/// after them; otherwise the server random and certificate follow. A certificate that
/// cannot be read leaves `certificate` empty rather than losing method and level.
fn parse_server_security(i: &[u8]) -> ParseResult<ServerSecurity> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, encryption_method) = le_u32::<_, E>(i)?;
    let (i, encryption_level) = le_u32::<_, E>(i)?;
    let mut sec = ServerSecurity {
        encryption_method,
        encryption_level,
        certificate: None,
    };
    sec.certificate = server_random_and_cert(i);
    Ok(sec)
}

fn server_random_and_cert(i: &[u8]) -> Option<ServerCertificate> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, random_len) = le_u32::<_, E>(i).ok()?;
    let (i, cert_len) = le_u32::<_, E>(i).ok()?;
    let (i, _random) = take::<_, _, E>(random_len)(i).ok()?;
    let (_, cert) = take::<_, _, E>(cert_len)(i).ok()?;
    parse_server_certificate(cert)
}

/// SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1): `dwVersion` holds the chain version in
/// its low 31 bits (1 = proprietary, 2 = X.509) and the `t` (temporary) flag in the top bit.
fn parse_server_certificate(i: &[u8]) -> Option<ServerCertificate> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, version) = le_u32::<_, E>(i).ok()?;
    let permanent = version & 0x8000_0000 == 0;
    match version & 0x7fff_ffff {
        1 => Some(ServerCertificate::Proprietary {
            key_bits: proprietary_key_bits(i),
        }),
        2 => {
            // X.509 chain (5.3.3.2): NumCertBlobs, then {cbCert, abCert} each. The count is
            // only iterated, never allocated; every blob consumes >= 4 bytes, so the loop
            // ends with the input. The server's own certificate is the last blob.
            let (mut i, count) = le_u32::<_, E>(i).ok()?;
            let mut leaf: Option<&[u8]> = None;
            for _ in 0..count {
                let (rest, len) = le_u32::<_, E>(i).ok()?;
                // An empty blob is no certificate; it is what reading into the zero
                // padding that follows the chain looks like when the count is inflated.
                if len == 0 {
                    return None;
                }
                let (rest, der) = take::<_, _, E>(len)(rest).ok()?;
                leaf = Some(der);
                i = rest;
            }
            Some(ServerCertificate::X509Chain {
                count,
                leaf_der: leaf?.to_vec(),
                permanent,
            })
        }
        _ => None,
    }
}

/// PROPRIETARYSERVERCERTIFICATE (2.2.1.4.3.1.1) up to RSA_PUBLIC_KEY.bitlen
/// (2.2.1.4.3.1.1.1).
fn proprietary_key_bits(i: &[u8]) -> Option<u32> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, _sig_alg) = le_u32::<_, E>(i).ok()?;
    let (i, _key_alg) = le_u32::<_, E>(i).ok()?;
    let (i, _blob_type) = le_u16::<_, E>(i).ok()?;
    let (i, blob_len) = le_u16::<_, E>(i).ok()?;
    let (_, blob) = take::<_, _, E>(blob_len)(i).ok()?;
    let (blob, magic) = take::<_, _, E>(4usize)(blob).ok()?;
    if magic != b"RSA1" {
        return None;
    }
    let (blob, _keylen) = le_u32::<_, E>(blob).ok()?;
    let (_, bitlen) = le_u32::<_, E>(blob).ok()?;
    Some(bitlen)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
