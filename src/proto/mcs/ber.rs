//! BER as T.125 uses it for the MCS connect PDUs (X.690): definite lengths, one-octet tags.

use crate::proto::{ParseError, ParseResult};
use nom::bytes::complete::take;
use nom::number::complete::be_u8;
use nom::IResult;

/// A BER definite length: short form, or long form with 1..=4 length octets.
/// Indefinite length (0x80) is not allowed by T.125's use of BER here.
pub(super) fn ber_length(i: &[u8]) -> IResult<&[u8], usize> {
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
pub(super) fn ber_tlv(tag: u8, i: &[u8]) -> ParseResult<(&[u8], &[u8])> {
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
pub(super) fn mcs_header(app: u8, i: &[u8]) -> ParseResult<&[u8]> {
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
