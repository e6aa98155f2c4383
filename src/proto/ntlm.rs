//! NTLM messages (MS-NLMP 2.2.1.1 NEGOTIATE, 2.2.1.2 CHALLENGE, 2.2.1.3 AUTHENTICATE) as
//! carried in CredSSP negoTokens, raw or inside SPNEGO.
//!
//! Names (user, domain, workstation, target) are kept, cut to [`MAX_NAME_CHARS`]; the
//! challenge responses and the session key are reported by length only, never copied:
//! they are offline-crackable credentials.

use super::{ParseError, ParseResult};

pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Names longer than this many characters are cut (a real one is under 256).
pub const MAX_NAME_CHARS: usize = 256;

/// Most AV pairs walked in a CHALLENGE's TargetInfo (a real one has about ten).
pub const MAX_AV_PAIRS: usize = 32;

/// NegotiateFlags (MS-NLMP 2.2.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NegotiateFlags(pub u32);

pub const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
pub const NEGOTIATE_ANONYMOUS: u32 = 0x0000_0800;
pub const NEGOTIATE_VERSION: u32 = 0x0200_0000;

static FLAG_NAMES: &[(u32, &str)] = &[
    (0x0000_0001, "NTLMSSP_NEGOTIATE_UNICODE"),
    (0x0000_0002, "NTLM_NEGOTIATE_OEM"),
    (0x0000_0004, "NTLMSSP_REQUEST_TARGET"),
    (0x0000_0010, "NTLMSSP_NEGOTIATE_SIGN"),
    (0x0000_0020, "NTLMSSP_NEGOTIATE_SEAL"),
    (0x0000_0040, "NTLMSSP_NEGOTIATE_DATAGRAM"),
    (0x0000_0080, "NTLMSSP_NEGOTIATE_LM_KEY"),
    (0x0000_0200, "NTLMSSP_NEGOTIATE_NTLM"),
    (0x0000_0800, "NTLMSSP_ANONYMOUS"),
    (0x0000_1000, "NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED"),
    (0x0000_2000, "NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED"),
    (0x0000_8000, "NTLMSSP_NEGOTIATE_ALWAYS_SIGN"),
    (0x0001_0000, "NTLMSSP_TARGET_TYPE_DOMAIN"),
    (0x0002_0000, "NTLMSSP_TARGET_TYPE_SERVER"),
    (0x0008_0000, "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY"),
    (0x0010_0000, "NTLMSSP_NEGOTIATE_IDENTIFY"),
    (0x0040_0000, "NTLMSSP_REQUEST_NON_NT_SESSION_KEY"),
    (0x0080_0000, "NTLMSSP_NEGOTIATE_TARGET_INFO"),
    (0x0200_0000, "NTLMSSP_NEGOTIATE_VERSION"),
    (0x2000_0000, "NTLMSSP_NEGOTIATE_128"),
    (0x4000_0000, "NTLMSSP_NEGOTIATE_KEY_EXCH"),
    (0x8000_0000, "NTLMSSP_NEGOTIATE_56"),
];

impl NegotiateFlags {
    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    pub fn unicode(self) -> bool {
        self.contains(NEGOTIATE_UNICODE)
    }

    /// Names of the set flags, in bit order; reserved bits are named `0x...`.
    pub fn names(self) -> Vec<String> {
        (0..32)
            .map(|b| 1u32 << b)
            .filter(|bit| self.0 & bit != 0)
            .map(|bit| match FLAG_NAMES.iter().find(|(b, _)| *b == bit) {
                Some((_, n)) => (*n).to_string(),
                None => format!("0x{bit:08x}"),
            })
            .collect()
    }
}

/// VERSION (MS-NLMP 2.2.2.10): the sender's Windows version, when NEGOTIATE_VERSION is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
    pub ntlm_revision: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NtlmMessage {
    Negotiate(Negotiate),
    Challenge(Challenge),
    Authenticate(Authenticate),
}

impl NtlmMessage {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Negotiate(_) => "NTLMSSP_NEGOTIATE",
            Self::Challenge(_) => "NTLMSSP_CHALLENGE",
            Self::Authenticate(_) => "NTLMSSP_AUTH",
        }
    }
}

/// 2.2.1.1 NEGOTIATE_MESSAGE. Domain and workstation are OEM strings, and only present
/// with the `*_SUPPLIED` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate {
    pub flags: NegotiateFlags,
    pub domain: Option<String>,
    pub workstation: Option<String>,
    pub version: Option<Version>,
}

/// 2.2.1.2 CHALLENGE_MESSAGE, with the names from its TargetInfo AV pairs (2.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    pub flags: NegotiateFlags,
    pub target_name: Option<String>,
    /// MsvAvNbComputerName (1).
    pub nb_computer_name: Option<String>,
    /// MsvAvNbDomainName (2).
    pub nb_domain_name: Option<String>,
    /// MsvAvDnsComputerName (3).
    pub dns_computer_name: Option<String>,
    /// MsvAvDnsDomainName (4).
    pub dns_domain_name: Option<String>,
    /// MsvAvDnsTreeName (5).
    pub dns_tree_name: Option<String>,
    pub version: Option<Version>,
}

/// 2.2.1.3 AUTHENTICATE_MESSAGE. The responses and the session key are never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    pub flags: NegotiateFlags,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub lm_response_len: usize,
    /// 24 for NTLMv1; longer (16-byte proof plus the client blob) for NTLMv2; 0 anonymous.
    pub nt_response_len: usize,
    pub session_key_len: usize,
    pub version: Option<Version>,
}

impl Authenticate {
    /// NTLMv2 responses are longer than the 24 bytes of NTLMv1 (MS-NLMP 2.2.2.8).
    pub fn is_ntlm_v2(&self) -> bool {
        self.nt_response_len > 24
    }

    /// Anonymous authentication (MS-NLMP 3.2.5.1.2: empty user and NT response).
    pub fn is_anonymous(&self) -> bool {
        self.user.is_empty() && self.nt_response_len == 0
    }
}

/// Whether `i` starts with the NTLMSSP signature.
pub fn is_ntlm(i: &[u8]) -> bool {
    i.starts_with(SIGNATURE)
}

fn u16_at(i: &[u8], at: usize) -> ParseResult<u16> {
    i.get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
        .ok_or(ParseError::Malformed("NTLM message too short"))
}

fn u32_at(i: &[u8], at: usize) -> ParseResult<u32> {
    i.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(ParseError::Malformed("NTLM message too short"))
}

/// A `*Fields` triple (Len u16, MaxLen u16, BufferOffset u32) at `at`: the payload bytes
/// it points at, relative to the start of the message.
fn payload(msg: &[u8], at: usize) -> ParseResult<&[u8]> {
    let len = usize::from(u16_at(msg, at)?);
    let off = usize::try_from(u32_at(msg, at + 4)?).map_err(|_| ParseError::Malformed("NTLM offset"))?;
    if len == 0 {
        return Ok(&[]);
    }
    let end = off
        .checked_add(len)
        .ok_or(ParseError::Malformed("NTLM field overflows"))?;
    msg.get(off..end)
        .ok_or(ParseError::Malformed("NTLM field beyond the message"))
}

fn version_at(msg: &[u8], at: usize, flags: NegotiateFlags) -> Option<Version> {
    if !flags.contains(NEGOTIATE_VERSION) {
        return None;
    }
    let v = msg.get(at..at + 8)?;
    Some(Version {
        major: *v.first()?,
        minor: *v.get(1)?,
        build: u16::from_le_bytes([*v.get(2)?, *v.get(3)?]),
        ntlm_revision: *v.get(7)?,
    })
}

/// UTF-16LE text, lossy, cut to [`MAX_NAME_CHARS`].
pub fn utf16_text(b: &[u8]) -> String {
    let units = b
        .chunks_exact(2)
        .take(MAX_NAME_CHARS)
        .map(|c| u16::from_le_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// OEM (8-bit code page) text: read as Latin-1, which keeps every byte visible.
fn oem_text(b: &[u8]) -> String {
    b.iter().take(MAX_NAME_CHARS).map(|&c| char::from(c)).collect()
}

fn text(b: &[u8], flags: NegotiateFlags) -> String {
    if flags.unicode() {
        utf16_text(b)
    } else {
        oem_text(b)
    }
}

/// Decodes one NTLM message (the whole token).
pub fn parse(msg: &[u8]) -> ParseResult<NtlmMessage> {
    if !is_ntlm(msg) {
        return Err(ParseError::Malformed("not an NTLMSSP message"));
    }
    match u32_at(msg, 8)? {
        1 => parse_negotiate(msg).map(NtlmMessage::Negotiate),
        2 => parse_challenge(msg).map(NtlmMessage::Challenge),
        3 => parse_authenticate(msg).map(NtlmMessage::Authenticate),
        _ => Err(ParseError::Malformed("unknown NTLM message type")),
    }
}

fn parse_negotiate(msg: &[u8]) -> ParseResult<Negotiate> {
    let flags = NegotiateFlags(u32_at(msg, 12)?);
    // Old clients end the message after the flags; the fields are then absent.
    let field = |at: usize, bit: u32| -> ParseResult<Option<String>> {
        if !flags.contains(bit) || msg.len() < at + 8 {
            return Ok(None);
        }
        payload(msg, at).map(|b| Some(oem_text(b)))
    };
    Ok(Negotiate {
        flags,
        domain: field(16, 0x0000_1000)?,
        workstation: field(24, 0x0000_2000)?,
        version: version_at(msg, 32, flags),
    })
}

fn parse_challenge(msg: &[u8]) -> ParseResult<Challenge> {
    let flags = NegotiateFlags(u32_at(msg, 20)?);
    let mut c = Challenge {
        flags,
        ..Default::default()
    };
    let target = payload(msg, 12)?;
    if !target.is_empty() {
        c.target_name = Some(text(target, flags));
    }
    // TargetInfo (offset 40) is absent from messages that stop at the reserved field.
    if msg.len() >= 48 {
        let mut info = payload(msg, 40)?;
        for _ in 0..MAX_AV_PAIRS {
            let (Ok(id), Ok(len)) = (u16_at(info, 0), u16_at(info, 2)) else {
                break;
            };
            let len = usize::from(len);
            if id == 0 {
                break; // MsvAvEOL
            }
            let Some(value) = info.get(4..4 + len) else {
                return Err(ParseError::Malformed("NTLM AV pair beyond TargetInfo"));
            };
            // AV pair strings are always UTF-16LE (2.2.2.1).
            let slot = match id {
                1 => &mut c.nb_computer_name,
                2 => &mut c.nb_domain_name,
                3 => &mut c.dns_computer_name,
                4 => &mut c.dns_domain_name,
                5 => &mut c.dns_tree_name,
                _ => {
                    info = info.get(4 + len..).unwrap_or_default();
                    continue;
                }
            };
            *slot = Some(utf16_text(value));
            info = info.get(4 + len..).unwrap_or_default();
        }
        c.version = version_at(msg, 48, flags);
    }
    Ok(c)
}

fn parse_authenticate(msg: &[u8]) -> ParseResult<Authenticate> {
    let flags = NegotiateFlags(u32_at(msg, 60)?);
    Ok(Authenticate {
        flags,
        lm_response_len: payload(msg, 12)?.len(),
        nt_response_len: payload(msg, 20)?.len(),
        domain: text(payload(msg, 28)?, flags),
        user: text(payload(msg, 36)?, flags),
        workstation: text(payload(msg, 44)?, flags),
        session_key_len: payload(msg, 52)?.len(),
        version: version_at(msg, 64, flags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// NEGOTIATE from the lab capture fixtures/lab/nla-wrong-password.pcap (FreeRDP client,
    /// frame 14, decrypted with its key log).
    const LAB_NEGOTIATE: &str = "4e544c4d5353500001000000b78208e2000000000000000000000000000000000601b11d0000000f";

    /// CHALLENGE of the same exchange (frame 15).
    const LAB_CHALLENGE: &str = "4e544c4d53535000020000000400040038000000b78288e2bec65a7a32cf8293\
        0000000000000000300030003c0000000601b11d0000000f56004d000200040056004d000100040056004d\
        000400040076006d000300040076006d0007000800803629819679dd0100000000";

    #[test]
    fn lab_negotiate() {
        let NtlmMessage::Negotiate(n) = parse(&hex(LAB_NEGOTIATE)).unwrap() else {
            panic!("not a NEGOTIATE")
        };
        assert!(n.flags.unicode());
        assert!(n.flags.names().contains(&"NTLMSSP_NEGOTIATE_KEY_EXCH".to_string()));
        assert_eq!(n.domain, None);
        assert_eq!(n.version.map(|v| (v.major, v.minor, v.build)), Some((6, 1, 7601)));
    }

    #[test]
    fn lab_challenge() {
        let NtlmMessage::Challenge(c) = parse(&hex(LAB_CHALLENGE)).unwrap() else {
            panic!("not a CHALLENGE")
        };
        assert_eq!(c.target_name.as_deref(), Some("VM"));
        assert_eq!(c.nb_domain_name.as_deref(), Some("VM"));
        assert_eq!(c.nb_computer_name.as_deref(), Some("VM"));
        assert_eq!(c.dns_domain_name.as_deref(), Some("vm"));
        assert_eq!(c.dns_computer_name.as_deref(), Some("vm"));
        assert!(c.flags.names().contains(&"NTLMSSP_NEGOTIATE_TARGET_INFO".to_string()));
    }

    #[test]
    fn authenticate_built_by_hand() {
        // Fixed part (72 bytes, no MIC) then payload: domain "D", user "u", workstation "W"
        // (UTF-16LE), a 24-byte LM response and a 30-byte NT response.
        let mut m = Vec::new();
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        let fields = [(24u16, 72u32), (30, 96), (2, 126), (2, 128), (2, 130), (0, 132)];
        for (len, off) in fields.iter().take(6) {
            m.extend_from_slice(&len.to_le_bytes());
            m.extend_from_slice(&len.to_le_bytes());
            m.extend_from_slice(&off.to_le_bytes());
        }
        m.extend_from_slice(&NEGOTIATE_UNICODE.to_le_bytes());
        m.resize(72, 0);
        m.extend_from_slice(&[0xaa; 24]);
        m.extend_from_slice(&[0xbb; 30]);
        m.extend_from_slice(b"D\0u\0W\0");
        let NtlmMessage::Authenticate(a) = parse(&m).unwrap() else {
            panic!("not an AUTHENTICATE")
        };
        assert_eq!(
            (a.domain.as_str(), a.user.as_str(), a.workstation.as_str()),
            ("D", "u", "W")
        );
        assert_eq!((a.lm_response_len, a.nt_response_len, a.session_key_len), (24, 30, 0));
        assert!(a.is_ntlm_v2());
        assert!(!format!("{a:?}").contains("187")); // 0xbb never copied
                                                    // A field pointing past the end is malformed, not a panic.
        m.truncate(100);
        assert!(matches!(parse(&m), Err(ParseError::Malformed(_))));
    }

    #[test]
    fn rejects() {
        assert!(parse(b"NTLMSSP\0\x09\0\0\0").is_err());
        assert!(parse(b"NTLMSS").is_err());
        assert!(parse(b"NTLMSSP\0\x02\0\0\0").is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), t in 1u8..4) {
            let mut m = SIGNATURE.to_vec();
            m.extend_from_slice(&[t, 0, 0, 0]);
            m.extend_from_slice(&data);
            let _ = parse(&m);
            let _ = parse(&data);
        }
    }
}
