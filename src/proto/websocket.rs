//! WebSocket frames (RFC 6455 §5.2) of the RD Gateway's WebSocket transport (MS-TSGU
//! 2.2.3.1): the header (FIN, opcode, mask, length) and the payload unmasked into a
//! caller's buffer. The payload is not kept here.

use nom::bytes::streaming::take;
use nom::number::streaming::{be_u16, be_u64, be_u8};

use super::{ParseError, ParseResult};

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    pub opcode: u8,
    /// Client-to-server frames are masked (RFC 6455 §5.3).
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes of the header (2 to 14).
    pub header_len: usize,
}

impl FrameHeader {
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// The frame header at the start of `i` (RFC 6455 §5.2). Reserved opcodes, RSV bits (no
/// extension is negotiated by the gateway) and control frames longer than 125 bytes or
/// fragmented (§5.5) are malformed.
pub fn parse_header(i: &[u8]) -> ParseResult<FrameHeader> {
    let (r, b0) = be_u8::<_, ()>(i)?;
    let (r, b1) = be_u8::<_, ()>(r)?;
    let opcode = b0 & 0x0F;
    if b0 & 0x70 != 0 {
        return Err(ParseError::Malformed("WebSocket RSV bits set without an extension"));
    }
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(ParseError::Malformed("WebSocket reserved opcode"));
    }
    let (r, payload_len) = match b1 & 0x7F {
        126 => {
            let (r, n) = be_u16::<_, ()>(r)?;
            (r, u64::from(n))
        }
        127 => be_u64::<_, ()>(r)?,
        n => (r, u64::from(n)),
    };
    let (r, mask) = if b1 & 0x80 != 0 {
        let (r, m) = take::<_, _, ()>(4usize)(r)?;
        (r, <[u8; 4]>::try_from(m).ok())
    } else {
        (r, None)
    };
    let fin = b0 & 0x80 != 0;
    if opcode & 0x8 != 0 && (payload_len > 125 || !fin) {
        return Err(ParseError::Malformed("WebSocket control frame too long or fragmented"));
    }
    Ok(FrameHeader {
        fin,
        opcode,
        mask,
        payload_len,
        header_len: i.len() - r.len(),
    })
}

/// Unmask `data` in place; `offset` is the position of `data[0]` in the frame's payload
/// (a payload read in pieces keeps its place in the 4-byte key).
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: u64) {
    for (k, b) in data.iter_mut().enumerate() {
        let key = mask.get(((offset + k as u64) % 4) as usize).copied().unwrap_or(0);
        *b ^= key;
    }
}

/// The status code of a Close frame's payload (RFC 6455 §5.5.1), if it has one.
pub fn close_code(payload: &[u8]) -> Option<u16> {
    let b: [u8; 2] = payload.get(..2)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_binary_frame() {
        // RFC 6455 §5.7 "Hello", masked, as binary.
        let f = [0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let h = parse_header(&f).unwrap();
        assert_eq!((h.fin, h.opcode, h.payload_len, h.header_len), (true, OP_BINARY, 5, 6));
        let mut p = f[6..].to_vec();
        unmask(&mut p[..2], h.mask.unwrap(), 0);
        unmask(&mut p[2..], h.mask.unwrap(), 2);
        assert_eq!(&p, b"Hello");
    }

    #[test]
    fn lengths_and_errors() {
        let h = parse_header(&[0x02, 0x7E, 0x01, 0x00]).unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.payload_len, h.header_len),
            (false, OP_BINARY, 256, 4)
        );
        let h = parse_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!(h.payload_len, 65536);
        assert_eq!(parse_header(&[0x82, 0x7F, 0]), Err(ParseError::Incomplete));
        assert!(parse_header(&[0x83, 0x00]).is_err());
        assert!(parse_header(&[0xC2, 0x00]).is_err());
        assert!(parse_header(&[0x08, 0x00]).is_err());
        assert!(parse_header(&[0x88, 0x7E, 0, 200]).is_err());
        assert_eq!(close_code(&[0x03, 0xE8, b'x']), Some(1000));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            if let Ok(h) = parse_header(&data) {
                proptest::prop_assert!(h.header_len <= data.len() && h.header_len <= 14);
            }
        }
    }
}
