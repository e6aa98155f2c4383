//! CredSSP (MS-CSSP) as it travels inside the TLS of an NLA connection: the DER-encoded
//! TSRequest (2.2.1), a framer that cuts TSRequests out of decrypted application data,
//! and the Early User Authorization Result of HYBRID_EX (MS-RDPBCGR 2.2.10.2).
//!
//! Credentials never leave this module: `authInfo` (the encrypted TSCredentials, which
//! would hold the password once decrypted) and `pubKeyAuth` are reported by length only.

use super::der;
use super::{ParseError, ParseResult};

/// Longest TSRequest accepted. A Kerberos AP-REQ with a large PAC stays under Windows'
/// MaxTokenSize (48,000 bytes by default); the bound matches the stream buffer bound.
pub const MAX_TS_REQUEST_LEN: usize = 131_072;

/// Most negoTokens kept from one TSRequest (MS-CSSP sends exactly one).
pub const MAX_NEGO_TOKENS: usize = 8;

/// MS-CSSP 2.2.1 TSRequest, reduced to what a passive observer can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsRequest<'a> {
    /// Protocol version (2 to 6 today).
    pub version: u32,
    /// Each `negoToken` (SPNEGO, or raw NTLM from some stacks), borrowed from the input.
    pub nego_tokens: Vec<&'a [u8]>,
    /// Length of `authInfo` (encrypted TSCredentials) if present; the content is never kept.
    pub auth_info_len: Option<usize>,
    /// Length of `pubKeyAuth` if present.
    pub pub_key_auth_len: Option<usize>,
    /// `errorCode` (version 3 and later): an NTSTATUS, see [`super::ntstatus`].
    pub error_code: Option<u32>,
    /// Whether `clientNonce` (version 5 and later) is present.
    pub client_nonce: bool,
}

/// Length of the DER TSRequest at the start of `stream` (header + content), so a caller
/// can cut it from decrypted application data that spans TLS records. `Incomplete` until
/// the DER header is whole; `Malformed` when the bytes do not start a SEQUENCE or claim
/// more than [`MAX_TS_REQUEST_LEN`].
pub fn ts_request_len(stream: &[u8]) -> ParseResult<usize> {
    match stream.first() {
        None => return Err(ParseError::Incomplete),
        Some(0x30) => {}
        Some(_) => return Err(ParseError::Malformed("TSRequest does not start with a SEQUENCE")),
    }
    let len = der::element_len(stream)?;
    if len > MAX_TS_REQUEST_LEN {
        return Err(ParseError::Malformed("TSRequest longer than the bound"));
    }
    Ok(len)
}

/// Decodes one TSRequest (the whole element, as cut by [`ts_request_len`]).
pub fn parse_ts_request(i: &[u8]) -> ParseResult<TsRequest<'_>> {
    let len = ts_request_len(i)?;
    let (t, _) = der::read(i.get(..len).ok_or(ParseError::Incomplete)?)?;
    let items = der::children(t.content)?;
    // [0] version is mandatory.
    let version = der::explicit_u32(der::field(&items, 0).ok_or(ParseError::Malformed("TSRequest without version"))?)?;
    let mut req = TsRequest {
        version,
        nego_tokens: Vec::new(),
        auth_info_len: None,
        pub_key_auth_len: None,
        error_code: None,
        client_nonce: false,
    };
    if let Some(nego) = der::field(&items, 1) {
        // NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
        let (seq_of, _) = der::expect(nego, 0x30, "TSRequest negoTokens: SEQUENCE OF expected")?;
        for entry in der::children(seq_of)? {
            if entry.id != 0x30 {
                return Err(ParseError::Malformed("TSRequest negoTokens: SEQUENCE expected"));
            }
            let inner = der::children(entry.content)?;
            let tok = der::field(&inner, 0).ok_or(ParseError::Malformed("NegoData without negoToken"))?;
            if req.nego_tokens.len() < MAX_NEGO_TOKENS {
                req.nego_tokens.push(der::explicit_octets(tok)?);
            }
        }
    }
    if let Some(a) = der::field(&items, 2) {
        req.auth_info_len = Some(der::explicit_octets(a)?.len());
    }
    if let Some(p) = der::field(&items, 3) {
        req.pub_key_auth_len = Some(der::explicit_octets(p)?.len());
    }
    if let Some(e) = der::field(&items, 4) {
        req.error_code = Some(der::explicit_u32(e)?);
    }
    if let Some(n) = der::field(&items, 5) {
        der::explicit_octets(n)?;
        req.client_nonce = true;
    }
    Ok(req)
}

/// MS-RDPBCGR 2.2.10.2 Early User Authorization Result PDU (HYBRID_EX only): four bytes,
/// little-endian, sent by the server after CredSSP and before the MCS Connect Initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyUserAuthResult {
    /// 0x00000000 SUCCESS.
    Success,
    /// 0x00000005 ACCESS_DENIED: the user authenticated but may not log on to this host.
    AccessDenied,
    Other(u32),
}

impl EarlyUserAuthResult {
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::Other(_) => "unknown",
        }
    }
}

/// Reads the Early User Authorization Result from the start of `i`: `(result, 4)`.
pub fn parse_early_user_auth_result(i: &[u8]) -> ParseResult<(EarlyUserAuthResult, usize)> {
    let b: [u8; 4] = i
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ParseError::Incomplete)?;
    let r = match u32::from_le_bytes(b) {
        0 => EarlyUserAuthResult::Success,
        5 => EarlyUserAuthResult::AccessDenied,
        other => EarlyUserAuthResult::Other(other),
    };
    Ok((r, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's last TSRequest in the NTLM-rejected Windows capture (frame 19):
    /// version 6, errorCode 0xC000006E. Built here from its DER; the capture itself is
    /// checked by tests/inside_keyed.rs.
    const ERROR_REQ: [u8; 15] = [
        0x30, 0x0d, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa4, 0x06, 0x02, 0x04, 0xc0, 0x00, 0x00, 0x6e,
    ];

    #[test]
    fn error_code_request() {
        assert_eq!(ts_request_len(&ERROR_REQ), Ok(15));
        assert_eq!(ts_request_len(&ERROR_REQ[..1]), Err(ParseError::Incomplete));
        let r = parse_ts_request(&ERROR_REQ).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.version, 6);
        assert_eq!(r.error_code, Some(0xC000_006E));
        assert!(r.nego_tokens.is_empty());
        assert_eq!(parse_ts_request(&ERROR_REQ[..10]), Err(ParseError::Incomplete));
    }

    #[test]
    fn tokens_lengths_and_nonce() {
        // version 6, negoTokens { { [0] 01 02 03 } }, pubKeyAuth 4 bytes, clientNonce 2 bytes.
        let req = [
            0x30, 0x22, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa1, 0x0d, 0x30, 0x0b, 0x30, 0x09, 0xa0, 0x07, 0x04, 0x05, 1, 2,
            3, 4, 5, 0xa3, 0x06, 0x04, 0x04, 9, 9, 9, 9, 0xa5, 0x04, 0x04, 0x02, 7, 7,
        ];
        let r = parse_ts_request(&req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.nego_tokens, vec![&[1u8, 2, 3, 4, 5][..]]);
        assert_eq!(r.pub_key_auth_len, Some(4));
        assert_eq!(r.auth_info_len, None);
        assert!(r.client_nonce);
        assert_eq!(r.error_code, None);
    }

    #[test]
    fn rejects() {
        assert!(matches!(ts_request_len(&[0x16, 3, 3]), Err(ParseError::Malformed(_))));
        assert!(matches!(
            ts_request_len(&[0x30, 0x83, 0x10, 0, 0]),
            Err(ParseError::Malformed(_))
        ));
        // No version.
        assert!(parse_ts_request(&[0x30, 0x02, 0x05, 0x00]).is_err());
    }

    #[test]
    fn early_user_auth() {
        assert_eq!(
            parse_early_user_auth_result(&[0, 0, 0, 0]),
            Ok((EarlyUserAuthResult::Success, 4))
        );
        assert_eq!(
            parse_early_user_auth_result(&[5, 0, 0, 0, 0x03]),
            Ok((EarlyUserAuthResult::AccessDenied, 4))
        );
        assert_eq!(parse_early_user_auth_result(&[5, 0]), Err(ParseError::Incomplete));
        assert_eq!(EarlyUserAuthResult::AccessDenied.name(), "ACCESS_DENIED");
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = ts_request_len(&data);
            let _ = parse_ts_request(&data);
            let _ = parse_early_user_auth_result(&data);
        }
    }
}
