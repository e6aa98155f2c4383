//! Client Info PDU data, TS_INFO_PACKET (MS-RDPBCGR 2.2.1.11.1.1), and the start of its
//! extended part (2.2.1.11.1.1.1). The password is skipped by its length and never kept.

use crate::proto::ntlm::utf16_text;
use crate::proto::{ParseError, ParseResult};

/// Texts kept from the Info Packet are cut to this many characters (the spec allows 256
/// for the domain and user name, 512 for the shell and directory).
pub const MAX_TEXT_CHARS: usize = 512;

pub const INFO_UNICODE: u32 = 0x0000_0010;

static INFO_FLAGS: &[(u32, &str)] = &[
    (0x0000_0001, "INFO_MOUSE"),
    (0x0000_0002, "INFO_DISABLECTRLALTDEL"),
    (0x0000_0008, "INFO_AUTOLOGON"),
    (0x0000_0010, "INFO_UNICODE"),
    (0x0000_0020, "INFO_MAXIMIZESHELL"),
    (0x0000_0040, "INFO_LOGONNOTIFY"),
    (0x0000_0080, "INFO_COMPRESSION"),
    (0x0000_0100, "INFO_ENABLEWINDOWSKEY"),
    (0x0000_2000, "INFO_REMOTECONSOLEAUDIO"),
    (0x0000_4000, "INFO_FORCE_ENCRYPTED_CS_PDU"),
    (0x0000_8000, "INFO_RAIL"),
    (0x0001_0000, "INFO_LOGONERRORS"),
    (0x0002_0000, "INFO_MOUSE_HAS_WHEEL"),
    (0x0004_0000, "INFO_PASSWORD_IS_SC_PIN"),
    (0x0008_0000, "INFO_NOAUDIOPLAYBACK"),
    (0x0010_0000, "INFO_USING_SAVED_CREDS"),
    (0x0020_0000, "INFO_AUDIOCAPTURE"),
    (0x0040_0000, "INFO_VIDEO_DISABLE"),
    (0x0080_0000, "INFO_RESERVED1"),
    (0x0100_0000, "INFO_RESERVED2"),
    (0x0200_0000, "INFO_HIDEF_RAIL_SUPPORTED"),
];

/// Names of the Info Packet flags; the compression type (CompressionTypeMask 0x1E00) is
/// named `PACKET_COMPR_TYPE_<n>`, unknown bits `0x...`.
pub fn info_flag_names(flags: u32) -> Vec<String> {
    let mut out = Vec::new();
    for bit in (0..32).map(|b| 1u32 << b).filter(|b| flags & b != 0 && b & 0x1E00 == 0) {
        match INFO_FLAGS.iter().find(|(b, _)| *b == bit) {
            Some((_, n)) => out.push((*n).to_string()),
            None => out.push(format!("0x{bit:08x}")),
        }
    }
    if flags & 0x80 != 0 {
        out.push(format!("PACKET_COMPR_TYPE_{}", (flags & 0x1E00) >> 9));
    }
    out
}

/// TS_INFO_PACKET without the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub code_page: u32,
    pub flags: u32,
    pub domain: String,
    pub user_name: String,
    pub alternate_shell: String,
    pub working_dir: String,
    /// clientAddress of the extended info packet, if present.
    pub client_address: Option<String>,
}

impl ClientInfo {
    pub fn flag_names(&self) -> Vec<String> {
        info_flag_names(self.flags)
    }
}

struct Reader<'a> {
    i: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> ParseResult<&'a [u8]> {
        let (head, tail) = (self.i.get(..n), self.i.get(n..));
        match (head, tail) {
            (Some(h), Some(t)) => {
                self.i = t;
                Ok(h)
            }
            _ => Err(ParseError::Malformed("Client Info too short")),
        }
    }
    fn u16(&mut self) -> ParseResult<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }
    fn u32(&mut self) -> ParseResult<u32> {
        let b = self.take(4)?;
        b.try_into()
            .map(u32::from_le_bytes)
            .map_err(|_| ParseError::Malformed("Client Info too short"))
    }
}

fn text(b: &[u8], unicode: bool) -> String {
    let s = if unicode {
        utf16_text(b)
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    };
    s.trim_end_matches('\0').chars().take(MAX_TEXT_CHARS).collect()
}

/// Decodes TS_INFO_PACKET (the data after the security header of a Client Info PDU).
pub fn parse(i: &[u8]) -> ParseResult<ClientInfo> {
    let mut r = Reader { i };
    let code_page = r.u32()?;
    let flags = r.u32()?;
    let unicode = flags & INFO_UNICODE != 0;
    let lens = [r.u16()?, r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    // Each string is followed by a mandatory null terminator not counted in its cb* field.
    let nul = if unicode { 2 } else { 1 };
    let mut field = |len: u16| -> ParseResult<&[u8]> {
        let s = r.take(usize::from(len))?;
        r.take(nul)?;
        Ok(s)
    };
    let [cb_domain, cb_user, cb_password, cb_shell, cb_dir] = lens;
    let domain = text(field(cb_domain)?, unicode);
    let user_name = text(field(cb_user)?, unicode);
    // The password: skipped by its length, never looked at.
    field(cb_password)?;
    let alternate_shell = text(field(cb_shell)?, unicode);
    let working_dir = text(field(cb_dir)?, unicode);
    // Extended info (RDP 5.0+): clientAddressFamily, cbClientAddress (includes its null),
    // clientAddress (always Unicode).
    let client_address = match (r.u16(), r.u16()) {
        (Ok(_family), Ok(cb)) => r.take(usize::from(cb)).ok().map(|a| text(a, true)),
        _ => None,
    };
    Ok(ClientInfo {
        code_page,
        flags,
        domain,
        user_name,
        alternate_shell,
        working_dir,
        client_address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_info_without_password() {
        let mut b = Vec::new();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(INFO_UNICODE | 0x1 | 0x2 | 0x0008 | 0x40).to_le_bytes());
        for len in [2u16, 4, 6, 0, 0] {
            b.extend_from_slice(&len.to_le_bytes());
        }
        b.extend_from_slice(b"D\0\0\0"); // domain "D"
        b.extend_from_slice(b"u\0x\0\0\0"); // user "ux"
        b.extend_from_slice(b"p\0w\0d\0\0\0"); // password "pwd": skipped
        b.extend_from_slice(b"\0\0\0\0"); // empty shell and directory
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&6u16.to_le_bytes());
        b.extend_from_slice(b"1\0.\0\0\0");
        let ci = parse(&b).unwrap();
        assert_eq!((ci.domain.as_str(), ci.user_name.as_str()), ("D", "ux"));
        assert_eq!(ci.client_address.as_deref(), Some("1."));
        assert!(!format!("{ci:?}").contains("pwd") && !format!("{ci:?}").contains("p\\0w"));
        assert!(ci.flag_names().contains(&"INFO_AUTOLOGON".to_string()));
        assert!(parse(&b[..20]).is_err());
    }

    #[test]
    fn flag_names_with_compression() {
        let n = info_flag_names(0x0000_0080 | (1 << 9) | INFO_UNICODE);
        assert_eq!(n, vec!["INFO_UNICODE", "INFO_COMPRESSION", "PACKET_COMPR_TYPE_1"]);
    }
}
