//! Kerberos 5 messages (RFC 4120 §5), where an RDP connection shows them:
//! - on port 88 in cleartext: AS-REQ / AS-REP / TGS-REQ / TGS-REP / KRB-ERROR (over TCP
//!   each is preceded by a 4-byte big-endian length, RFC 4120 §7.2.2; over UDP not);
//! - inside SPNEGO in CredSSP: the GSS-API token of RFC 4121 §4.1 (OID 1.2.840.113554.1.2.2)
//!   or of user-to-user (OID 1.2.840.113554.1.2.2.3) carrying an AP-REQ / AP-REP /
//!   KRB-ERROR, or the TGT-REQ / TGT-REP of the user-to-user exchange.
//!
//! The RFC 4120 messages are decoded by the `kerberos-parser` crate (same nom 7 and
//! der-parser 9 as the rest of the tree); only names, realms and codes are kept, never
//! the encrypted parts or the pre-authentication data.

use kerberos_parser::krb5::{ApRep, ApReq as KpApReq, KrbError as KpKrbError, PrincipalName, Ticket};
use kerberos_parser::krb5_parser as kp;
use x509_parser::der_parser::asn1_rs::FromDer;

use super::der;
use super::{ParseError, ParseResult};

/// Longest Kerberos message accepted (Windows' MaxTokenSize default is 48,000 bytes).
pub const MAX_MESSAGE_LEN: usize = 131_072;
/// Realm and principal texts are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Most encryption types kept from a request.
pub const MAX_ETYPES: usize = 32;

/// GSS-API OIDs of RFC 4121 (and Microsoft's legacy one) as DER contents.
const OID_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_KRB5_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];
const OID_MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];

/// A decoded Kerberos message, reduced to names and codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KrbMessage {
    AsReq(KdcReq),
    TgsReq(KdcReq),
    AsRep(KdcRep),
    TgsRep(KdcRep),
    ApReq(ApReq),
    ApRep,
    Error(KrbError),
    /// User-to-user TGT request (draft-ietf-cat-user2user, msg-type 16).
    TgtReq(TgtReq),
    /// User-to-user TGT reply (msg-type 17): the server's TGT.
    TgtRep(TgtRep),
}

impl KrbMessage {
    pub fn name(&self) -> &'static str {
        match self {
            Self::AsReq(_) => "AS-REQ",
            Self::TgsReq(_) => "TGS-REQ",
            Self::AsRep(_) => "AS-REP",
            Self::TgsRep(_) => "TGS-REP",
            Self::ApReq(_) => "AP-REQ",
            Self::ApRep => "AP-REP",
            Self::Error(_) => "KRB-ERROR",
            Self::TgtReq(_) => "TGT-REQ",
            Self::TgtRep(_) => "TGT-REP",
        }
    }
}

/// KDC-REQ (AS-REQ / TGS-REQ): who asks for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcReq {
    pub realm: String,
    pub cname: Option<String>,
    pub sname: Option<String>,
    /// Requested encryption types (RFC 3961 numbers), at most [`MAX_ETYPES`].
    pub etypes: Vec<i32>,
    /// PA-DATA types present (e.g. 2 PA-ENC-TIMESTAMP, 128 PA-PAC-REQUEST), values dropped.
    pub padata_types: Vec<i32>,
}

/// KDC-REP (AS-REP / TGS-REP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcRep {
    pub crealm: String,
    pub cname: String,
    pub ticket_realm: String,
    pub ticket_sname: String,
}

/// AP-REQ: the service ticket's realm and principal (e.g. `TERMSRV/host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApReq {
    pub ticket_realm: String,
    pub ticket_sname: String,
}

/// KRB-ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbError {
    pub error_code: i32,
    pub realm: String,
    pub sname: String,
    pub crealm: Option<String>,
    pub cname: Option<String>,
    pub e_text: Option<String>,
}

impl KrbError {
    pub fn error_name(&self) -> Option<&'static str> {
        error_name(self.error_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgtReq {
    pub server_name: Option<String>,
    pub realm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgtRep {
    pub ticket_realm: String,
    pub ticket_sname: String,
}

/// RFC 4121 §4.1 TOK_ID of a GSS-API Kerberos token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokId {
    ApReq,
    ApRep,
    Error,
    TgtReq,
    TgtRep,
    Other(u16),
}

impl TokId {
    fn from_u16(v: u16) -> Self {
        match v {
            0x0100 => Self::ApReq,
            0x0200 => Self::ApRep,
            0x0300 => Self::Error,
            0x0400 => Self::TgtReq,
            0x0401 => Self::TgtRep,
            other => Self::Other(other),
        }
    }
}

/// Which Kerberos mechanism a GSS token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KrbMech {
    Krb5,
    MsKrb5,
    UserToUser,
}

/// A GSS-API Kerberos token: mechanism, TOK_ID and the message inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssKrbToken {
    pub mech: KrbMech,
    pub tok_id: TokId,
    pub message: KrbMessage,
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_NAME_CHARS).collect()
}

fn principal(p: &PrincipalName) -> String {
    cut(&p.to_string())
}

fn ticket_names(t: &Ticket) -> (String, String) {
    (cut(&t.realm.0), principal(&t.sname))
}

fn nom_err<E>(e: nom::Err<E>) -> ParseError {
    match e {
        nom::Err::Incomplete(_) => ParseError::Incomplete,
        _ => ParseError::Malformed("Kerberos: malformed message"),
    }
}

/// Decodes one Kerberos message by its APPLICATION tag (RFC 4120 §5.10), or a
/// user-to-user TGT-REQ / TGT-REP (a plain SEQUENCE with msg-type 16 / 17).
pub fn parse_message(i: &[u8]) -> ParseResult<KrbMessage> {
    if i.len() > MAX_MESSAGE_LEN {
        return Err(ParseError::Malformed("Kerberos message longer than the bound"));
    }
    match i.first() {
        Some(0x6a) => kp::parse_as_req(i)
            .map_err(nom_err)
            .map(|(_, r)| KrbMessage::AsReq(kdc_req(&r))),
        Some(0x6c) => kp::parse_tgs_req(i)
            .map_err(nom_err)
            .map(|(_, r)| KrbMessage::TgsReq(kdc_req(&r))),
        Some(0x6b) => kp::parse_as_rep(i)
            .map_err(nom_err)
            .map(|(_, r)| KrbMessage::AsRep(kdc_rep(&r))),
        Some(0x6d) => kp::parse_tgs_rep(i)
            .map_err(nom_err)
            .map(|(_, r)| KrbMessage::TgsRep(kdc_rep(&r))),
        Some(0x6e) => KpApReq::from_der(i).map_err(nom_err).map(|(_, r)| {
            let (ticket_realm, ticket_sname) = ticket_names(&r.ticket);
            KrbMessage::ApReq(ApReq {
                ticket_realm,
                ticket_sname,
            })
        }),
        Some(0x6f) => ApRep::from_der(i).map_err(nom_err).map(|_| KrbMessage::ApRep),
        Some(0x7e) => KpKrbError::from_der(i).map_err(nom_err).map(|(_, e)| {
            KrbMessage::Error(KrbError {
                error_code: e.error_code.0,
                realm: cut(&e.realm.0),
                sname: principal(&e.sname),
                crealm: e.crealm.as_ref().map(|r| cut(&r.0)),
                cname: e.cname.as_ref().map(principal),
                e_text: e.etext.as_deref().map(cut),
            })
        }),
        Some(0x30) => parse_tgt(i),
        Some(_) => Err(ParseError::Malformed("not a Kerberos message")),
        None => Err(ParseError::Incomplete),
    }
}

fn kdc_req(r: &kerberos_parser::krb5::KdcReq) -> KdcReq {
    KdcReq {
        realm: cut(&r.req_body.realm.0),
        cname: r.req_body.cname.as_ref().map(principal),
        sname: r.req_body.sname.as_ref().map(principal),
        etypes: r.req_body.etype.iter().take(MAX_ETYPES).map(|e| e.0).collect(),
        padata_types: r.padata.iter().take(MAX_ETYPES).map(|p| p.padata_type.0).collect(),
    }
}

fn kdc_rep(r: &kerberos_parser::krb5::KdcRep) -> KdcRep {
    let (ticket_realm, ticket_sname) = ticket_names(&r.ticket);
    KdcRep {
        crealm: cut(&r.crealm.0),
        cname: principal(&r.cname),
        ticket_realm,
        ticket_sname,
    }
}

/// TGT-REQ ::= SEQUENCE { pvno[0], msg-type[1] (16), server-name[2] PrincipalName OPTIONAL,
/// realm[3] Realm OPTIONAL }; TGT-REP ::= SEQUENCE { pvno[0], msg-type[1] (17), ticket[2] }.
fn parse_tgt(i: &[u8]) -> ParseResult<KrbMessage> {
    let (t, _) = der::read(i)?;
    let items = der::children(t.content)?;
    let msg_type =
        der::explicit_u32(der::field(&items, 1).ok_or(ParseError::Malformed("Kerberos SEQUENCE without msg-type"))?)?;
    match msg_type {
        16 => Ok(KrbMessage::TgtReq(TgtReq {
            server_name: match der::field(&items, 2) {
                Some(c) => Some(principal(&PrincipalName::from_der(c).map_err(nom_err)?.1)),
                None => None,
            },
            realm: der::field(&items, 3)
                .map(|c| der::explicit_string(c, MAX_NAME_CHARS))
                .transpose()?,
        })),
        17 => {
            let c = der::field(&items, 2).ok_or(ParseError::Malformed("TGT-REP without ticket"))?;
            let (_, ticket) = Ticket::from_der(c).map_err(nom_err)?;
            let (ticket_realm, ticket_sname) = ticket_names(&ticket);
            Ok(KrbMessage::TgtRep(TgtRep {
                ticket_realm,
                ticket_sname,
            }))
        }
        _ => Err(ParseError::Malformed("unknown Kerberos SEQUENCE message")),
    }
}

/// Whether `i` is a GSS-API token for a Kerberos mechanism (0x60, then a Kerberos OID).
pub fn is_gss_krb(i: &[u8]) -> bool {
    gss_header(i).is_ok()
}

fn gss_header(i: &[u8]) -> ParseResult<(KrbMech, &[u8])> {
    let (t, _) = der::read(i)?;
    if t.id != 0x60 {
        return Err(ParseError::Malformed("GSS token without [APPLICATION 0]"));
    }
    let (oid, rest) = der::expect(t.content, 0x06, "GSS token without mechanism OID")?;
    let mech = match oid {
        OID_KRB5 => KrbMech::Krb5,
        OID_MS_KRB5 => KrbMech::MsKrb5,
        OID_KRB5_U2U => KrbMech::UserToUser,
        _ => return Err(ParseError::Malformed("GSS token for another mechanism")),
    };
    Ok((mech, rest))
}

/// Decodes a GSS-API Kerberos token (RFC 4121 §4.1: `60 len OID TOK_ID message`).
pub fn parse_gss_token(i: &[u8]) -> ParseResult<GssKrbToken> {
    let (mech, rest) = gss_header(i)?;
    let (id, msg) = match rest {
        [hi, lo, msg @ ..] => (u16::from_be_bytes([*hi, *lo]), msg),
        _ => return Err(ParseError::Malformed("GSS Kerberos token without TOK_ID")),
    };
    Ok(GssKrbToken {
        mech,
        tok_id: TokId::from_u16(id),
        message: parse_message(msg)?,
    })
}

/// Length of the next Kerberos-over-TCP record (RFC 4120 §7.2.2): 4 + the big-endian
/// length. The high bit is reserved and must be zero; lengths above
/// [`MAX_MESSAGE_LEN`] are refused.
pub fn tcp_record_len(i: &[u8]) -> ParseResult<usize> {
    let b: [u8; 4] = i
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ParseError::Incomplete)?;
    let len = usize::try_from(u32::from_be_bytes(b)).map_err(|_| ParseError::Malformed("Kerberos TCP length"))?;
    if len > MAX_MESSAGE_LEN {
        return Err(ParseError::Malformed("Kerberos TCP record longer than the bound"));
    }
    Ok(len + 4)
}

/// Decodes the Kerberos-over-TCP record at the start of `i`: `(message, bytes used)`.
pub fn parse_tcp_record(i: &[u8]) -> ParseResult<(KrbMessage, usize)> {
    let total = tcp_record_len(i)?;
    let body = i.get(4..total).ok_or(ParseError::Incomplete)?;
    parse_message(body).map(|m| (m, total))
}

/// RFC 4120 §7.5.9 error codes (and RFC 6113's FAST ones): name and a one-line meaning.
#[rustfmt::skip]
static ERRORS: &[(i32, &str, &str)] = &[
    (0, "KDC_ERR_NONE", "no error"),
    (1, "KDC_ERR_NAME_EXP", "client's entry in the database has expired"),
    (2, "KDC_ERR_SERVICE_EXP", "server's entry in the database has expired"),
    (3, "KDC_ERR_BAD_PVNO", "requested protocol version not supported"),
    (4, "KDC_ERR_C_OLD_MAST_KVNO", "client's key encrypted in old master key"),
    (5, "KDC_ERR_S_OLD_MAST_KVNO", "server's key encrypted in old master key"),
    (6, "KDC_ERR_C_PRINCIPAL_UNKNOWN", "client (user) not found in the Kerberos database"),
    (7, "KDC_ERR_S_PRINCIPAL_UNKNOWN", "server (service principal name) not found in the Kerberos database"),
    (8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE", "multiple principal entries in the database"),
    (9, "KDC_ERR_NULL_KEY", "the client or server has a null key"),
    (10, "KDC_ERR_CANNOT_POSTDATE", "ticket not eligible for postdating"),
    (11, "KDC_ERR_NEVER_VALID", "requested start time is later than end time"),
    (12, "KDC_ERR_POLICY", "KDC policy rejects the request (e.g. logon hours or workstation restriction)"),
    (13, "KDC_ERR_BADOPTION", "KDC cannot accommodate the requested option"),
    (14, "KDC_ERR_ETYPE_NOSUPP", "KDC has no support for the encryption type"),
    (15, "KDC_ERR_SUMTYPE_NOSUPP", "KDC has no support for the checksum type"),
    (16, "KDC_ERR_PADATA_TYPE_NOSUPP", "KDC has no support for the pre-authentication data type"),
    (17, "KDC_ERR_TRTYPE_NOSUPP", "KDC has no support for the transited type"),
    (18, "KDC_ERR_CLIENT_REVOKED", "client's credentials have been revoked (account disabled, expired or locked out)"),
    (19, "KDC_ERR_SERVICE_REVOKED", "credentials for the server have been revoked"),
    (20, "KDC_ERR_TGT_REVOKED", "TGT has been revoked"),
    (21, "KDC_ERR_CLIENT_NOTYET", "client not yet valid; try again later"),
    (22, "KDC_ERR_SERVICE_NOTYET", "server not yet valid; try again later"),
    (23, "KDC_ERR_KEY_EXPIRED", "password has expired; change it to reset"),
    (24, "KDC_ERR_PREAUTH_FAILED", "pre-authentication information was invalid (wrong password)"),
    (25, "KDC_ERR_PREAUTH_REQUIRED", "additional pre-authentication required (normal first answer to an AS-REQ)"),
    (26, "KDC_ERR_SERVER_NOMATCH", "requested server and ticket don't match"),
    (27, "KDC_ERR_MUST_USE_USER2USER", "server principal valid for user-to-user only"),
    (28, "KDC_ERR_PATH_NOT_ACCEPTED", "KDC policy rejects the transited path"),
    (29, "KDC_ERR_SVC_UNAVAILABLE", "a service is not available"),
    (31, "KRB_AP_ERR_BAD_INTEGRITY", "integrity check on a decrypted field failed"),
    (32, "KRB_AP_ERR_TKT_EXPIRED", "ticket expired"),
    (33, "KRB_AP_ERR_TKT_NYV", "ticket not yet valid"),
    (34, "KRB_AP_ERR_REPEAT", "request is a replay"),
    (35, "KRB_AP_ERR_NOT_US", "the ticket isn't for us"),
    (36, "KRB_AP_ERR_BADMATCH", "ticket and authenticator don't match"),
    (37, "KRB_AP_ERR_SKEW", "clock skew too great"),
    (38, "KRB_AP_ERR_BADADDR", "incorrect net address"),
    (39, "KRB_AP_ERR_BADVERSION", "protocol version mismatch"),
    (40, "KRB_AP_ERR_MSG_TYPE", "invalid message type"),
    (41, "KRB_AP_ERR_MODIFIED", "message stream modified (often: wrong service key / SPN registered on another account)"),
    (42, "KRB_AP_ERR_BADORDER", "message out of order"),
    (44, "KRB_AP_ERR_BADKEYVER", "specified version of key is not available"),
    (45, "KRB_AP_ERR_NOKEY", "service key not available"),
    (46, "KRB_AP_ERR_MUT_FAIL", "mutual authentication failed"),
    (47, "KRB_AP_ERR_BADDIRECTION", "incorrect message direction"),
    (48, "KRB_AP_ERR_METHOD", "alternative authentication method required"),
    (49, "KRB_AP_ERR_BADSEQ", "incorrect sequence number in message"),
    (50, "KRB_AP_ERR_INAPP_CKSUM", "inappropriate type of checksum in message"),
    (51, "KRB_AP_PATH_NOT_ACCEPTED", "policy rejects the transited path"),
    (52, "KRB_ERR_RESPONSE_TOO_BIG", "response too big for UDP; retry with TCP"),
    (60, "KRB_ERR_GENERIC", "generic error (see e-text)"),
    (61, "KRB_ERR_FIELD_TOOLONG", "field is too long for this implementation"),
    (62, "KDC_ERROR_CLIENT_NOT_TRUSTED", "PKINIT: client not trusted"),
    (63, "KDC_ERROR_KDC_NOT_TRUSTED", "PKINIT: KDC not trusted"),
    (64, "KDC_ERROR_INVALID_SIG", "PKINIT: invalid signature"),
    (65, "KDC_ERR_KEY_TOO_WEAK", "PKINIT: key too weak"),
    (66, "KDC_ERR_CERTIFICATE_MISMATCH", "PKINIT: certificate mismatch"),
    (67, "KRB_AP_ERR_NO_TGT", "no TGT available to validate user-to-user"),
    (68, "KDC_ERR_WRONG_REALM", "wrong realm (the request should go to another realm's KDC)"),
    (69, "KRB_AP_ERR_USER_TO_USER_REQUIRED", "ticket must be for user-to-user"),
    (70, "KDC_ERR_CANT_VERIFY_CERTIFICATE", "PKINIT: cannot verify certificate"),
    (71, "KDC_ERR_INVALID_CERTIFICATE", "PKINIT: invalid certificate"),
    (72, "KDC_ERR_REVOKED_CERTIFICATE", "PKINIT: revoked certificate"),
    (73, "KDC_ERR_REVOCATION_STATUS_UNKNOWN", "PKINIT: revocation status unknown"),
    (74, "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE", "PKINIT: revocation status unavailable"),
    (75, "KDC_ERR_CLIENT_NAME_MISMATCH", "PKINIT: client name mismatch"),
    (76, "KDC_ERR_KDC_NAME_MISMATCH", "PKINIT: KDC name mismatch"),
    (90, "KDC_ERR_PREAUTH_EXPIRED", "FAST: pre-authentication expired"),
    (91, "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED", "FAST: more pre-authentication data required"),
    (92, "KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET", "FAST: bad authentication set"),
    (93, "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS", "FAST: unknown critical FAST options"),
];

/// Name of a KRB-ERROR code; `None` if unknown.
pub fn error_name(code: i32) -> Option<&'static str> {
    ERRORS.iter().find(|(c, _, _)| *c == code).map(|(_, n, _)| *n)
}

/// One-line meaning of a KRB-ERROR code; `None` if unknown.
pub fn error_meaning(code: i32) -> Option<&'static str> {
    ERRORS.iter().find(|(c, _, _)| *c == code).map(|(_, _, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names() {
        assert_eq!(error_name(24), Some("KDC_ERR_PREAUTH_FAILED"));
        assert_eq!(error_name(25), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(error_name(37), Some("KRB_AP_ERR_SKEW"));
        assert_eq!(error_name(68), Some("KDC_ERR_WRONG_REALM"));
        assert_eq!(error_name(30), None);
        assert!(ERRORS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn tcp_framing() {
        assert_eq!(tcp_record_len(&[0, 0, 0, 5]), Ok(9));
        assert_eq!(tcp_record_len(&[0, 0]), Err(ParseError::Incomplete));
        assert!(tcp_record_len(&[0x7f, 0, 0, 0]).is_err());
        assert_eq!(parse_tcp_record(&[0, 0, 0, 5, 0x7e]), Err(ParseError::Incomplete));
    }

    #[test]
    fn u2u_tgt_req() {
        // The mechToken of the Windows client's first SPNEGO token in the Kerberos capture
        // (user-to-user OID, TOK_ID 04 00) re-encoded by hand with a one-part server name:
        // TGT-REQ { pvno 5, msg-type 16, server-name { 2, ["TERMSRV"] } }.
        let tgt_req = [
            0x30, 0x20, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x10, 0xa2, 0x14, 0x30, 0x12, 0xa0, 0x03,
            0x02, 0x01, 0x02, 0xa1, 0x0b, 0x30, 0x09, 0x1b, 0x07, b'T', b'E', b'R', b'M', b'S', b'R', b'V',
        ];
        let mut gss = vec![0x60, 0x00, 0x06, 0x0a];
        gss.extend_from_slice(OID_KRB5_U2U);
        gss.extend_from_slice(&[0x04, 0x00]);
        gss.extend_from_slice(&tgt_req);
        gss[1] = u8::try_from(gss.len() - 2).unwrap();
        let tok = parse_gss_token(&gss).unwrap();
        assert_eq!(tok.mech, KrbMech::UserToUser);
        assert_eq!(tok.tok_id, TokId::TgtReq);
        assert_eq!(
            tok.message,
            KrbMessage::TgtReq(TgtReq {
                server_name: Some("TERMSRV".into()),
                realm: None
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400), tag in proptest::sample::select(vec![0x6a_u8, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x7e, 0x30, 0x60])) {
            let mut m = vec![tag];
            m.extend_from_slice(&data);
            let _ = parse_message(&m);
            let _ = parse_gss_token(&m);
            let _ = parse_tcp_record(&data);
        }
    }
}
