//! The client's MCS Connect-Initial and its data blocks (MS-RDPBCGR 2.2.1.3).

use super::ber::{ber_tlv, mcs_header};
use super::gcc::{color_code_bpp, for_each_block, gcc_user_data, utf16_field};
use super::{ClientCore, ClientSecurity, ConnectInitial, MAX_CHANNELS};
use crate::proto::{ParseError, ParseResult};
use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, le_u8};

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
