//! SPNEGO (RFC 4178) tokens as CredSSP carries them in negoTokens, and the dispatch of a
//! negoToken to what it holds: SPNEGO around NTLM or Kerberos, or raw NTLM (FreeRDP and
//! other stacks put NTLM straight into negoTokens).
//!
//! The first token is the GSS-API InitialContextToken (`60 len`, OID 1.3.6.1.5.5.2, then
//! NegTokenInit `[0]`); later ones are a bare NegTokenResp (`[1]`), RFC 4178 §4.2.

use super::der;
use super::kerberos::{self, GssKrbToken};
use super::ntlm::{self, NtlmMessage};
use super::{ParseError, ParseResult};

/// Most mechTypes kept from a NegTokenInit (Windows offers four).
pub const MAX_MECH_TYPES: usize = 16;

const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/// A GSS mechanism named in SPNEGO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mech {
    /// 1.2.840.113554.1.2.2 (RFC 4121).
    Kerberos,
    /// 1.2.840.48018.1.2.2 (Microsoft's legacy Kerberos OID).
    MsKerberos,
    /// 1.2.840.113554.1.2.2.3 (Kerberos user-to-user).
    KerberosUserToUser,
    /// 1.3.6.1.4.1.311.2.2.10 (NTLMSSP).
    Ntlm,
    /// 1.3.6.1.4.1.311.2.2.30 (NegoEx, MS-NEGOEX).
    NegoEx,
    /// Anything else, as dotted text.
    Other(String),
}

impl Mech {
    fn from_oid(content: &[u8]) -> Self {
        match content {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02] => Self::Kerberos,
            [0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02] => Self::MsKerberos,
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03] => Self::KerberosUserToUser,
            [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a] => Self::Ntlm,
            [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e] => Self::NegoEx,
            other => Self::Other(der::oid_text(other).unwrap_or_else(|| "invalid OID".into())),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Kerberos => "Kerberos",
            Self::MsKerberos => "MS Kerberos",
            Self::KerberosUserToUser => "Kerberos user-to-user",
            Self::Ntlm => "NTLM",
            Self::NegoEx => "NegoEx",
            Self::Other(s) => s,
        }
    }
}

/// NegTokenResp negState (RFC 4178 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegState {
    AcceptCompleted,
    AcceptIncomplete,
    Reject,
    RequestMic,
    Other(u32),
}

impl NegState {
    pub fn name(self) -> &'static str {
        match self {
            Self::AcceptCompleted => "accept-completed",
            Self::AcceptIncomplete => "accept-incomplete",
            Self::Reject => "reject",
            Self::RequestMic => "request-mic",
            Self::Other(_) => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegTokenInit<'a> {
    pub mech_types: Vec<Mech>,
    pub mech_token: Option<&'a [u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegTokenResp<'a> {
    pub neg_state: Option<NegState>,
    pub supported_mech: Option<Mech>,
    pub response_token: Option<&'a [u8]>,
    pub mech_list_mic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpnegoToken<'a> {
    Init(NegTokenInit<'a>),
    Resp(NegTokenResp<'a>),
}

impl<'a> SpnegoToken<'a> {
    /// The inner mechanism token (mechToken or responseToken), if any.
    pub fn inner(&self) -> Option<&'a [u8]> {
        match self {
            Self::Init(i) => i.mech_token,
            Self::Resp(r) => r.response_token,
        }
    }
}

/// Decodes an SPNEGO token: an InitialContextToken with NegTokenInit, or a NegTokenResp.
pub fn parse(i: &[u8]) -> ParseResult<SpnegoToken<'_>> {
    let (t, _) = der::read(i)?;
    match t.id {
        0x60 => {
            let (oid, rest) = der::expect(t.content, 0x06, "SPNEGO token without OID")?;
            if oid != OID_SPNEGO {
                return Err(ParseError::Malformed("GSS token is not SPNEGO"));
            }
            let (init, _) = der::read_inner(rest)?;
            match init.id {
                0xa0 => parse_init(init.content).map(SpnegoToken::Init),
                // Some servers answer the initial token with a NegTokenResp inside it.
                0xa1 => parse_resp(init.content).map(SpnegoToken::Resp),
                _ => Err(ParseError::Malformed("SPNEGO: unknown NegotiationToken choice")),
            }
        }
        0xa0 => parse_init(t.content).map(SpnegoToken::Init),
        0xa1 => parse_resp(t.content).map(SpnegoToken::Resp),
        _ => Err(ParseError::Malformed("not an SPNEGO token")),
    }
}

fn parse_init(content: &[u8]) -> ParseResult<NegTokenInit<'_>> {
    let (seq, _) = der::expect(content, 0x30, "NegTokenInit: SEQUENCE expected")?;
    let items = der::children(seq)?;
    let mut mech_types = Vec::new();
    if let Some(list) = der::field(&items, 0) {
        let (oids, _) = der::expect(list, 0x30, "mechTypes: SEQUENCE OF expected")?;
        for o in der::children(oids)?.into_iter().take(MAX_MECH_TYPES) {
            if o.id != 0x06 {
                return Err(ParseError::Malformed("mechTypes: OID expected"));
            }
            mech_types.push(Mech::from_oid(o.content));
        }
    }
    let mech_token = der::field(&items, 2).map(der::explicit_octets).transpose()?;
    Ok(NegTokenInit { mech_types, mech_token })
}

fn parse_resp(content: &[u8]) -> ParseResult<NegTokenResp<'_>> {
    let (seq, _) = der::expect(content, 0x30, "NegTokenResp: SEQUENCE expected")?;
    let items = der::children(seq)?;
    let neg_state = match der::field(&items, 0) {
        Some(c) => {
            let (e, _) = der::expect(c, 0x0a, "negState: ENUMERATED expected")?;
            Some(match der::integer_u32(e)? {
                0 => NegState::AcceptCompleted,
                1 => NegState::AcceptIncomplete,
                2 => NegState::Reject,
                3 => NegState::RequestMic,
                other => NegState::Other(other),
            })
        }
        None => None,
    };
    let supported_mech = match der::field(&items, 1) {
        Some(c) => Some(Mech::from_oid(der::expect(c, 0x06, "supportedMech: OID expected")?.0)),
        None => None,
    };
    Ok(NegTokenResp {
        neg_state,
        supported_mech,
        response_token: der::field(&items, 2).map(der::explicit_octets).transpose()?,
        mech_list_mic: der::field(&items, 3).is_some(),
    })
}

/// What an authentication token (a CredSSP negoToken, or an SPNEGO inner token) carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMessage {
    Ntlm(NtlmMessage),
    Kerberos(GssKrbToken),
    /// A raw Kerberos message without GSS framing.
    KerberosRaw(kerberos::KrbMessage),
    /// An inner token of a mechanism not decoded here (NegoEx), with its length.
    Other(usize),
}

/// A CredSSP negoToken, decoded as deep as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegoToken<'a> {
    /// The SPNEGO wrapper, if the token had one.
    pub spnego: Option<SpnegoToken<'a>>,
    /// The mechanism message inside (absent for an SPNEGO token without inner token,
    /// e.g. the final accept-completed with only a mechListMIC).
    pub message: Option<AuthMessage>,
}

fn inner_message(t: &[u8]) -> ParseResult<AuthMessage> {
    if ntlm::is_ntlm(t) {
        return ntlm::parse(t).map(AuthMessage::Ntlm);
    }
    if kerberos::is_gss_krb(t) {
        return kerberos::parse_gss_token(t).map(AuthMessage::Kerberos);
    }
    match t.first() {
        Some(0x6a..=0x6f | 0x7e) => kerberos::parse_message(t).map(AuthMessage::KerberosRaw),
        _ => Ok(AuthMessage::Other(t.len())),
    }
}

/// Decodes a CredSSP negoToken: raw NTLM, or SPNEGO with NTLM / Kerberos inside.
pub fn parse_nego_token(t: &[u8]) -> ParseResult<NegoToken<'_>> {
    if ntlm::is_ntlm(t) {
        return Ok(NegoToken {
            spnego: None,
            message: Some(AuthMessage::Ntlm(ntlm::parse(t)?)),
        });
    }
    let spnego = parse(t)?;
    let message = spnego.inner().map(inner_message).transpose()?;
    Ok(NegoToken {
        spnego: Some(spnego),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_with_ntlm() {
        // 60 { OID spnego, a0 { 30 { a0 { 30 { OID ntlm } }, a2 { 04 "NTLMSSP\0" 01 00 00 00 ... } } } }
        let ntlm: Vec<u8> = [&ntlm::SIGNATURE[..], &[1, 0, 0, 0, 0x01, 0x82, 0x08, 0xa2]].concat();
        let mut mech_token = vec![0x04, u8::try_from(ntlm.len()).unwrap()];
        mech_token.extend_from_slice(&ntlm);
        let mut seq = vec![
            0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
        ];
        seq.push(0xa2);
        seq.push(u8::try_from(mech_token.len()).unwrap());
        seq.extend_from_slice(&mech_token);
        let mut init = vec![0x30, u8::try_from(seq.len()).unwrap()];
        init.extend_from_slice(&seq);
        let mut tok = vec![0xa0, u8::try_from(init.len()).unwrap()];
        tok.extend_from_slice(&init);
        let mut gss = vec![0x60, 0, 0x06, 0x06];
        gss.extend_from_slice(OID_SPNEGO);
        gss.extend_from_slice(&tok);
        gss[1] = u8::try_from(gss.len() - 2).unwrap();
        let n = parse_nego_token(&gss).unwrap();
        let Some(SpnegoToken::Init(i)) = &n.spnego else {
            panic!("no init")
        };
        assert_eq!(i.mech_types, vec![Mech::Ntlm]);
        assert!(matches!(n.message, Some(AuthMessage::Ntlm(NtlmMessage::Negotiate(_)))));
    }

    #[test]
    fn resp_reject() {
        // a1 { 30 { a0 { 0a 01 02 } } }: negState reject, nothing else.
        let t = [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02];
        let n = parse_nego_token(&t).unwrap();
        assert_eq!(
            n.spnego,
            Some(SpnegoToken::Resp(NegTokenResp {
                neg_state: Some(NegState::Reject),
                supported_mech: None,
                response_token: None,
                mech_list_mic: false
            }))
        );
        assert_eq!(n.message, None);
        assert!(parse(&[0x30, 0x00]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), tag in proptest::sample::select(vec![0x60_u8, 0xa0, 0xa1])) {
            let mut m = vec![tag];
            m.extend_from_slice(&data);
            let _ = parse_nego_token(&m);
            let _ = parse_nego_token(&data);
        }
    }
}
