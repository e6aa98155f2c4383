//! HTTP/2 frame headers (RFC 9113 §4.1) of a KDC proxy connection (ALPN `h2`): enough to
//! take the DATA frames' payloads (the MS-KKDCP messages) and see where a request or a
//! response ends. Header blocks are HPACK-compressed and are not decoded here.

use nom::number::streaming::{be_u24, be_u32, be_u8};

use super::{ParseError, ParseResult};

pub const FRAME_HEADER_LEN: usize = 9;
pub const TYPE_DATA: u8 = 0x0;
pub const TYPE_HEADERS: u8 = 0x1;
pub const FLAG_END_STREAM: u8 = 0x1;
pub const FLAG_PADDED: u8 = 0x8;
/// The client's connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub length: usize,
    pub frame_type: u8,
    pub flags: u8,
    pub stream: u32,
}

pub fn parse_header(i: &[u8]) -> ParseResult<FrameHeader> {
    let (r, length) = be_u24::<_, ()>(i)?;
    let (r, frame_type) = be_u8::<_, ()>(r)?;
    let (r, flags) = be_u8::<_, ()>(r)?;
    let (_, stream) = be_u32::<_, ()>(r)?;
    // SETTINGS_MAX_FRAME_SIZE is at most 2^24-1; anything is representable, but a
    // frame above 1 MiB is not a KDC proxy's.
    if length > 1 << 20 {
        return Err(ParseError::Malformed("HTTP/2 frame longer than the bound"));
    }
    Ok(FrameHeader {
        length: length as usize,
        frame_type,
        flags,
        stream: stream & 0x7fff_ffff,
    })
}

/// The data of a DATA frame's payload, without its padding (§6.1).
pub fn data_payload<'a>(h: &FrameHeader, payload: &'a [u8]) -> ParseResult<&'a [u8]> {
    if h.flags & FLAG_PADDED == 0 {
        return Ok(payload);
    }
    let pad = usize::from(*payload.first().ok_or(ParseError::Malformed("HTTP/2 DATA padding"))?);
    let end = payload.len().checked_sub(pad).filter(|e| *e >= 1);
    end.and_then(|e| payload.get(1..e))
        .ok_or(ParseError::Malformed("HTTP/2 DATA padding longer than the frame"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let h = parse_header(&[0, 0, 5, 0, 1, 0, 0, 0, 3]).unwrap();
        assert_eq!(
            (h.length, h.frame_type, h.flags, h.stream),
            (5, TYPE_DATA, FLAG_END_STREAM, 3)
        );
        assert_eq!(parse_header(&[0, 0, 5, 0]), Err(ParseError::Incomplete));
        assert!(parse_header(&[0x20, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
        let padded = FrameHeader {
            length: 5,
            frame_type: 0,
            flags: FLAG_PADDED,
            stream: 1,
        };
        assert_eq!(data_payload(&padded, &[2, b'a', b'b', 0, 0]), Ok(&b"ab"[..]));
        assert!(data_payload(&padded, &[9, b'a']).is_err());
    }
}
