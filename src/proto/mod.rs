//! Pure protocol parsers over byte slices. None of them allocates more than the input
//! justifies, and none panics on hostile bytes: every failure is a [`ParseError`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

/// Why a parser could not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// More bytes are needed (the caller should reassemble more and retry).
    #[error("incomplete: need more data")]
    Incomplete,
    /// The bytes do not form a valid structure; the string names what was wrong.
    #[error("malformed: {0}")]
    Malformed(&'static str),
}

impl<E> From<nom::Err<E>> for ParseError {
    fn from(e: nom::Err<E>) -> Self {
        match e {
            nom::Err::Incomplete(_) => ParseError::Incomplete,
            nom::Err::Error(_) | nom::Err::Failure(_) => ParseError::Malformed("nom parse error"),
        }
    }
}

pub type ParseResult<T> = Result<T, ParseError>;

/// The entry for `code` in a name table sorted by code (errorInfo, NTSTATUS, …).
pub(crate) fn by_code<T>(table: &'static [T], code: u32, key: impl Fn(&T) -> u32) -> Option<&'static T> {
    table.binary_search_by_key(&code, key).ok().and_then(|i| table.get(i))
}

pub mod cert;
pub mod credssp;
pub mod der;
pub mod errinfo;
pub mod h2;
pub mod http;
pub mod http_connect;
pub mod ja4;
pub mod kerberos;
pub mod kkdcp;
pub mod mcs;
pub mod ntlm;
pub mod ntstatus;
pub mod rdp;
pub mod rdpeudp;
pub mod rpch;
pub mod socks;
pub mod spnego;
pub mod tls;
pub mod tpkt;
pub mod tsgu;
pub mod websocket;
pub mod x224;
