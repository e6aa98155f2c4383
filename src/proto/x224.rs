//! X.224 (ISO 8073 class 0) TPDUs as RDP uses them, with the RDP negotiation structures
//! of MS-RDPBCGR 2.2.1.1 (Connection Request) and 2.2.1.2 (Connection Confirm).

use nom::number::complete::{le_u16, le_u32, u8 as nom_u8};

use super::{ParseError, ParseResult};

/// TPDU codes (high nibble of the second byte).
const CR: u8 = 0xE0;
const CC: u8 = 0xD0;
const DR: u8 = 0x80;
const DT: u8 = 0xF0;

/// Cookie and routing token are capped: real ones are tens of bytes; this bounds
/// what a crafted request can make us keep.
const MAX_TOKEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tpdu<'a> {
    ConnectionRequest(ConnectionRequest),
    ConnectionConfirm(ConnectionConfirm),
    DisconnectRequest,
    Data(&'a [u8]),
    Other(u8),
}

/// MS-RDPBCGR 2.2.1.1 Client X.224 Connection Request PDU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// `Cookie: mstshash=IDENTIFIER` (2.2.1.1): usually the user name, often cut short.
    pub cookie: Option<String>,
    /// Any other `Cookie: ...` line (load-balancer routing token, 2.2.1.1 routingToken).
    pub routing_token: Option<String>,
    pub neg_req: Option<NegotiationRequest>,
    pub correlation_id: Option<[u8; 16]>,
    /// The length indicator disagrees with the TPKT length (a crafted or broken request).
    pub li_mismatch: bool,
}

/// MS-RDPBCGR 2.2.1.1.1 RDP Negotiation Request; unknown protocol bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationRequest {
    pub flags: RequestFlags,
    pub requested_protocols: Protocols,
}

/// A set of security protocols: `requestedProtocols` (2.2.1.1.1) or, with one bit or none,
/// `selectedProtocol` (2.2.1.2.1). Unknown bits are kept and shown in hex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Protocols(pub u32);

impl Protocols {
    /// PROTOCOL_RDP: no bit, standard RDP security.
    pub const RDP: Protocols = Protocols(0);
    pub const SSL: Protocols = Protocols(0x1);
    pub const HYBRID: Protocols = Protocols(0x2);
    pub const RDSTLS: Protocols = Protocols(0x4);
    pub const HYBRID_EX: Protocols = Protocols(0x8);
    pub const RDSAAD: Protocols = Protocols(0x10);

    pub fn contains(self, p: Protocols) -> bool {
        p.0 != 0 && self.0 & p.0 == p.0
    }

    /// CredSSP (NLA) follows the TLS handshake: HYBRID or HYBRID_EX.
    pub fn is_nla(self) -> bool {
        self.0 & (Self::HYBRID.0 | Self::HYBRID_EX.0) != 0
    }

    /// A TLS handshake follows the Connection Confirm (anything but standard RDP security).
    pub fn selects_tls(self) -> bool {
        self.0 != 0
    }

    /// Names used in reports: `["ssl", "hybrid"]`, `["rdp"]` for none.
    pub fn names(self) -> Vec<String> {
        protocol_names(self.0)
    }

    /// The name of a selected protocol: `hybrid`, `rdp`.
    pub fn name(self) -> String {
        match self.0 {
            0 => "rdp".into(),
            p => protocol_names(p).join("|"),
        }
    }
}

impl std::fmt::Display for Protocols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// RDP_NEG_REQ flags (2.2.1.1.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFlags(pub u8);

impl RequestFlags {
    pub fn names(self) -> Vec<String> {
        flag_names(
            self.0,
            &[
                (0x01, "restricted_admin_mode_required"),
                (0x02, "redirected_authentication_mode_required"),
                (0x08, "correlation_info_present"),
            ],
        )
    }
}

/// RDP_NEG_RSP flags (2.2.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseFlags(pub u8);

impl ResponseFlags {
    pub fn names(self) -> Vec<String> {
        flag_names(
            self.0,
            &[
                (0x01, "extended_client_data_supported"),
                (0x02, "dynvc_gfx_protocol_supported"),
                (0x04, "negrsp_flag_reserved"),
                (0x08, "restricted_admin_mode_supported"),
                (0x10, "redirected_authentication_mode_supported"),
            ],
        )
    }
}

/// RDP_NEG_FAILURE failureCode (2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureCode(pub u32);

impl FailureCode {
    pub const SSL_REQUIRED_BY_SERVER: FailureCode = FailureCode(1);
    pub const SSL_NOT_ALLOWED_BY_SERVER: FailureCode = FailureCode(2);
    pub const SSL_CERT_NOT_ON_SERVER: FailureCode = FailureCode(3);
    pub const INCONSISTENT_FLAGS: FailureCode = FailureCode(4);
    pub const HYBRID_REQUIRED_BY_SERVER: FailureCode = FailureCode(5);
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: FailureCode = FailureCode(6);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => "UNKNOWN",
        }
    }
}

/// MS-RDPBCGR 2.2.1.2 Server X.224 Connection Confirm PDU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionConfirm {
    pub negotiation: Option<Negotiation>,
    pub li_mismatch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// 2.2.1.2.1 RDP_NEG_RSP.
    Response {
        flags: ResponseFlags,
        selected_protocol: Protocols,
        length: u16,
    },
    /// 2.2.1.2.2 RDP_NEG_FAILURE.
    Failure { code: FailureCode },
}

/// Parse the TPDU carried in one TPKT payload.
pub fn parse(tpdu: &[u8]) -> ParseResult<Tpdu<'_>> {
    let (li, code) = match tpdu {
        [li, code, ..] => (*li, *code),
        _ => return Err(ParseError::Malformed("X.224 TPDU shorter than 2 bytes")),
    };
    // The length indicator counts the header after itself; RDP puts cookie and
    // negotiation data inside it, so for CR/CC it should cover the whole TPDU.
    let li_mismatch = usize::from(li) + 1 != tpdu.len();
    match code & 0xF0 {
        CR => parse_cr(tpdu, li_mismatch).map(Tpdu::ConnectionRequest),
        CC => parse_cc(tpdu, li_mismatch).map(Tpdu::ConnectionConfirm),
        DR => Ok(Tpdu::DisconnectRequest),
        // 2.2.8.1.1.1 etc.: X.224 Data is LI=2, 0xF0, EOT (0x80), then the MCS PDU.
        DT => tpdu
            .get(3..)
            .map(Tpdu::Data)
            .ok_or(ParseError::Malformed("X.224 DT too short")),
        other => Ok(Tpdu::Other(other)),
    }
}

/// Fixed part of CR and CC: LI, code, DST-REF(2), SRC-REF(2), class option.
const FIXED: usize = 7;

fn parse_cr(tpdu: &[u8], li_mismatch: bool) -> ParseResult<ConnectionRequest> {
    let mut rest = tpdu.get(FIXED..).ok_or(ParseError::Malformed("X.224 CR too short"))?;
    let mut cr = ConnectionRequest {
        li_mismatch,
        ..Default::default()
    };
    if let Some(after) = rest.strip_prefix(b"Cookie: ") {
        // The token ends at CR LF; a request without one carries no negotiation data after it.
        let (line, tail) = match after.windows(2).position(|w| w == b"\r\n") {
            Some(end) => (
                after.get(..end).unwrap_or_default(),
                after.get(end + 2..).unwrap_or_default(),
            ),
            None => (after, &[][..]),
        };
        let line = line.get(..line.len().min(MAX_TOKEN)).unwrap_or_default();
        match line.strip_prefix(b"mstshash=") {
            Some(id) => cr.cookie = Some(String::from_utf8_lossy(id).into_owned()),
            None => cr.routing_token = Some(String::from_utf8_lossy(line).into_owned()),
        }
        rest = tail;
    }
    if let [0x01, ..] = rest {
        let (tail, (flags, requested_protocols)) = neg_block(rest)?;
        cr.neg_req = Some(NegotiationRequest {
            flags: RequestFlags(flags),
            requested_protocols: Protocols(requested_protocols),
        });
        // 2.2.1.1.2 RDP_NEG_CORRELATION_INFO: type 6, flags 0, length 36, 16-byte id, 16 reserved.
        if let [0x06, _, 36, 0, ..] = tail {
            if let Some(id) = tail.get(4..20).and_then(|s| <[u8; 16]>::try_from(s).ok()) {
                cr.correlation_id = Some(id);
            }
        }
    }
    Ok(cr)
}

fn parse_cc(tpdu: &[u8], li_mismatch: bool) -> ParseResult<ConnectionConfirm> {
    let rest = tpdu.get(FIXED..).ok_or(ParseError::Malformed("X.224 CC too short"))?;
    let negotiation = match rest {
        [] => None,
        [0x02, ..] => {
            let len = rest.get(2..4).and_then(|l| l.try_into().ok()).map(u16::from_le_bytes);
            let (_, (flags, selected_protocol)) = neg_block(rest)?;
            Some(Negotiation::Response {
                flags: ResponseFlags(flags),
                selected_protocol: Protocols(selected_protocol),
                length: len.unwrap_or(0),
            })
        }
        [0x03, ..] => {
            let (_, (_, code)) = neg_block(rest)?;
            Some(Negotiation::Failure {
                code: FailureCode(code),
            })
        }
        _ => return Err(ParseError::Malformed("unknown negotiation type in X.224 CC")),
    };
    Ok(ConnectionConfirm {
        negotiation,
        li_mismatch,
    })
}

/// The shared 8-byte layout of RDP_NEG_REQ / RSP / FAILURE: type, flags, length (LE u16,
/// 8 by spec, not enforced: real stacks and crafted input disagree), u32 value.
fn neg_block(i: &[u8]) -> ParseResult<(&[u8], (u8, u32))> {
    let (i, _ty) = nom_u8::<_, nom::error::Error<&[u8]>>(i)?;
    let (i, flags) = nom_u8::<_, nom::error::Error<&[u8]>>(i)?;
    let (i, _len) = le_u16::<_, nom::error::Error<&[u8]>>(i)?;
    let (i, value) = le_u32::<_, nom::error::Error<&[u8]>>(i)?;
    Ok((i, (flags, value)))
}

/// Protocol names used in reports (MS-RDPBCGR 2.2.1.1.1 requestedProtocols).
fn protocol_names(bits: u32) -> Vec<String> {
    const NAMES: [(u32, &str); 5] = [
        (0x1, "ssl"),
        (0x2, "hybrid"),
        (0x4, "rdstls"),
        (0x8, "hybrid_ex"),
        (0x10, "rdsaad"),
    ];
    if bits == 0 {
        return vec!["rdp".into()];
    }
    let mut out: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| (*n).into())
        .collect();
    let known = NAMES.iter().fold(0, |acc, (b, _)| acc | b);
    let unknown = bits & !known;
    if unknown != 0 {
        out.push(format!("0x{unknown:x}"));
    }
    out
}

fn flag_names(flags: u8, table: &[(u8, &str)]) -> Vec<String> {
    let mut out: Vec<String> = table
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| (*n).into())
        .collect();
    let unknown = flags & !table.iter().fold(0, |a, (b, _)| a | b);
    if unknown != 0 {
        out.push(format!("0x{unknown:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // ndpi__rdp_over_tls.pcap frame 4 (TPKT stripped): cookie WDeployAd, requests SSL|HYBRID.
    const CR_BYTES: &[u8] =
        b"\x2a\xe0\x00\x00\x00\x00\x00Cookie: mstshash=WDeployAd\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

    #[test]
    fn connection_request_with_cookie_and_neg() {
        let Ok(Tpdu::ConnectionRequest(cr)) = parse(CR_BYTES) else {
            panic!("CR")
        };
        assert_eq!(cr.cookie.as_deref(), Some("WDeployAd"));
        assert_eq!(
            cr.neg_req,
            Some(NegotiationRequest {
                flags: RequestFlags(0),
                requested_protocols: Protocols(3)
            })
        );
        assert!(!cr.li_mismatch);
        assert_eq!(protocol_names(3), ["ssl", "hybrid"]);
    }

    #[test]
    fn routing_token_and_unknown_bits() {
        let cr = b"\x06\xe0\x00\x00\x00\x00\x00Cookie: msts=3640205228.15629.0000\r\n\x01\x08\x08\x00\x2b\x00\x00\x00";
        let Ok(Tpdu::ConnectionRequest(cr)) = parse(cr) else {
            panic!("CR")
        };
        assert_eq!(cr.routing_token.as_deref(), Some("msts=3640205228.15629.0000"));
        assert!(cr.li_mismatch);
        assert_eq!(protocol_names(0x2b), ["ssl", "hybrid", "hybrid_ex", "0x20"]);
        assert_eq!(RequestFlags(0x08).names(), ["correlation_info_present"]);
    }

    #[test]
    fn legacy_request_has_no_negotiation() {
        let cr = b"\x1d\xe0\x00\x00\x00\x00\x00Cookie: mstshash=A70067\r\n";
        let Ok(Tpdu::ConnectionRequest(cr)) = parse(cr) else {
            panic!("CR")
        };
        assert_eq!(cr.cookie.as_deref(), Some("A70067"));
        assert_eq!(cr.neg_req, None);
    }

    #[test]
    fn confirm_response_and_failure() {
        let rsp = b"\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00";
        assert_eq!(
            parse(rsp),
            Ok(Tpdu::ConnectionConfirm(ConnectionConfirm {
                negotiation: Some(Negotiation::Response {
                    flags: ResponseFlags(0x1f),
                    selected_protocol: Protocols::HYBRID,
                    length: 8
                }),
                li_mismatch: false
            }))
        );
        let fail = b"\x0e\xd0\x00\x00\x12\x34\x00\x03\x00\x08\x00\x02\x00\x00\x00";
        let Ok(Tpdu::ConnectionConfirm(cc)) = parse(fail) else {
            panic!("CC")
        };
        assert_eq!(
            cc.negotiation,
            Some(Negotiation::Failure {
                code: FailureCode::SSL_NOT_ALLOWED_BY_SERVER
            })
        );
        assert_eq!(FailureCode(2).name(), "SSL_NOT_ALLOWED_BY_SERVER");
        // Truncated negotiation block is an error, not a panic.
        assert!(parse(&fail[..10]).is_err());
    }

    #[test]
    fn data_and_disconnect() {
        assert_eq!(parse(b"\x02\xf0\x80\x7f\x65"), Ok(Tpdu::Data(b"\x7f\x65")));
        assert_eq!(parse(b"\x06\x80\x00\x00\x00\x00\x00"), Ok(Tpdu::DisconnectRequest));
        assert!(parse(b"\x02").is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&data);
        }
    }
}
