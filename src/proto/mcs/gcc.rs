//! The GCC layer (T.124, PER) around the RDP data blocks: the H.221 key, the TS_UD_HEADER
//! walk and the field encodings the blocks share.

use nom::bytes::complete::take;
use nom::number::complete::{be_u8, le_u16};
use nom::IResult;

/// Finds the H.221 non-standard `key` in the GCC bytes and returns the user data
/// OCTET STRING after it (PER length determinant, X.691 10.9).
///
/// A PER length running past the data is clamped rather than rejected, as Zeek does:
/// the blocks themselves carry lengths and are checked one by one.
pub(super) fn gcc_user_data<'a>(gcc: &'a [u8], key: &[u8; 4]) -> Option<&'a [u8]> {
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
pub(super) fn for_each_block<'a>(mut data: &'a [u8], mut f: impl FnMut(u16, &'a [u8])) {
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

pub(super) fn ud_header(i: &[u8]) -> IResult<&[u8], (u16, u16)> {
    let (i, ty) = le_u16(i)?;
    let (i, len) = le_u16(i)?;
    Ok((i, (ty, len)))
}

/// Decodes a fixed-size UTF-16LE field, cut at the first NUL code unit.
pub(super) fn utf16_field(b: &[u8]) -> String {
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
pub(super) fn color_code_bpp(code: u16) -> Option<u16> {
    match code {
        0xCA00 => Some(4),
        0xCA01 => Some(8),
        0xCA02 => Some(15),
        0xCA03 => Some(16),
        0xCA04 => Some(24),
        _ => None,
    }
}
