//! DCE/RPC connection-oriented PDU headers (C706 §12.6.3) in the bodies of RPC over HTTP
//! channels (MS-RPCH 2.1.2: RPC_IN_DATA / RPC_OUT_DATA), the RD Gateway's oldest transport:
//! enough to cut the PDUs and read a fault's status (C706 §12.6.4.7), which carries the
//! gateway's E_PROXY_* codes (MS-TSGU 3.2.6) or an RPC error.

use nom::number::complete::{le_u16, le_u32, u8 as byte};

use super::{ParseError, ParseResult};

pub const HEADER_LEN: usize = 16;
pub const PTYPE_FAULT: u8 = 3;
/// A fragment longer than this is not believed (MS-RPCH fragments are at most 64 KiB).
pub const MAX_FRAG: usize = 64 * 1024;

/// The common header: packet type and fragment length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub ptype: u8,
    pub frag_len: usize,
}

/// The header at the start of `i`; `Incomplete` before 16 bytes.
pub fn header(i: &[u8]) -> ParseResult<Header> {
    let h = i.get(..HEADER_LEN).ok_or(ParseError::Incomplete)?;
    let r = || ParseError::Malformed("RPC PDU header");
    let (h, vers) = byte::<_, ()>(h).map_err(|_| r())?;
    let (h, minor) = byte::<_, ()>(h).map_err(|_| r())?;
    let (h, ptype) = byte::<_, ()>(h).map_err(|_| r())?;
    let (h, _flags) = byte::<_, ()>(h).map_err(|_| r())?;
    let (h, drep) = le_u32::<_, ()>(h).map_err(|_| r())?;
    let (_, frag_len) = le_u16::<_, ()>(h).map_err(|_| r())?;
    // Version 5.0 and little-endian integers (drep[0] bit 4) are all a gateway sends.
    if vers != 5 || minor != 0 || drep & 0x10 == 0 {
        return Err(ParseError::Malformed("not a little-endian DCE/RPC 5.0 PDU"));
    }
    let frag_len = usize::from(frag_len);
    if !(HEADER_LEN..=MAX_FRAG).contains(&frag_len) {
        return Err(ParseError::Malformed("RPC frag_length out of range"));
    }
    Ok(Header { ptype, frag_len })
}

/// The status of a fault PDU (a whole PDU): alloc_hint, p_cont_id, cancel_count,
/// reserved, then status at offset 24.
pub fn fault_status(pdu: &[u8]) -> ParseResult<u32> {
    let b = pdu
        .get(24..)
        .ok_or(ParseError::Malformed("RPC fault shorter than its status"))?;
    le_u32::<_, ()>(b)
        .map(|(_, s)| s)
        .map_err(|_| ParseError::Malformed("RPC fault shorter than its status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(status: u32) -> Vec<u8> {
        let mut v = vec![5, 0, PTYPE_FAULT, 3, 0x10, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&status.to_le_bytes());
        v.extend_from_slice(&[0; 4]);
        v
    }

    #[test]
    fn fault_pdu() {
        let f = fault(0x59DD);
        let h = header(&f).unwrap();
        assert_eq!((h.ptype, h.frag_len), (PTYPE_FAULT, 32));
        assert_eq!(fault_status(&f), Ok(0x59DD));
        assert_eq!(header(&f[..10]), Err(ParseError::Incomplete));
        let mut be = f.clone();
        be[4] = 0;
        assert!(header(&be).is_err());
        assert!(fault_status(&f[..26]).is_err());
    }
}
