//! The server's MCS Connect-Response and its data blocks (MS-RDPBCGR 2.2.1.4).

use super::ber::{ber_tlv, mcs_header};
use super::gcc::{for_each_block, gcc_user_data};
use super::{ConnectResponse, ServerCertificate, ServerCore, ServerSecurity};
use crate::proto::{ParseError, ParseResult};
use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32};

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
pub(super) fn parse_server_security(i: &[u8]) -> ParseResult<ServerSecurity> {
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
