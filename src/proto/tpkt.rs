//! TPKT framing (RFC 1006 §6), the outer layer of every cleartext RDP PDU on TCP.

use super::{ParseError, ParseResult};

/// TPKT header length: version (3), reserved, u16 big-endian length including the header.
pub const HEADER_LEN: usize = 4;

/// Smallest meaningful TPKT: the header plus the 3-byte X.224 Data header.
const MIN_LEN: u16 = 7;

/// Length of the TPKT PDU starting at `i`, including the header.
/// `Incomplete` when fewer than four bytes are present.
pub fn pdu_len(i: &[u8]) -> ParseResult<usize> {
    match i {
        [3, _, hi, lo, ..] => {
            let len = u16::from_be_bytes([*hi, *lo]);
            if len < MIN_LEN {
                return Err(ParseError::Malformed("TPKT length shorter than an X.224 header"));
            }
            Ok(usize::from(len))
        }
        [3] | [3, _] | [3, _, _] | [] => Err(ParseError::Incomplete),
        _ => Err(ParseError::Malformed("TPKT version is not 3")),
    }
}

/// Split one complete TPKT PDU off the front of `i`: `(payload, bytes consumed)`.
pub fn split(i: &[u8]) -> ParseResult<(&[u8], usize)> {
    let len = pdu_len(i)?;
    let payload = i.get(HEADER_LEN..len).ok_or(ParseError::Incomplete)?;
    Ok((payload, len))
}

/// Whether `i` plausibly starts a TPKT PDU; used to resynchronise after a capture gap.
pub fn plausible_start(i: &[u8]) -> bool {
    matches!(i, [3, 0, hi, lo, ..] if (usize::from(u16::from_be_bytes([*hi, *lo]))) >= usize::from(MIN_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_waits() {
        let cr = b"\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00";
        assert_eq!(split(cr), Ok((&cr[4..], 11)));
        assert_eq!(split(&cr[..6]), Err(ParseError::Incomplete));
        assert_eq!(split(&cr[..2]), Err(ParseError::Incomplete));
        assert!(matches!(split(b"\x16\x03\x01\x00"), Err(ParseError::Malformed(_))));
        assert!(matches!(split(b"\x03\x00\x00\x02"), Err(ParseError::Malformed(_))));
        // A TPKT that claims 65535 bytes with 3 following just waits (the caller bounds it).
        assert_eq!(split(b"\x03\x00\xff\xff\x02\xf0\x80"), Err(ParseError::Incomplete));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = split(&data);
            let _ = plausible_start(&data);
        }
    }
}
