//! HTTP/1.1 message heads inside an HTTPS connection to an RD Gateway (MS-TSGU 2.2.3 HTTP
//! transport, 2.1.2 RPC over HTTP) or a KDC proxy (MS-KKDCP 2.2), read with `httparse`.
//! Only what explains a failure is kept: method, path, status and reason, the gateway's
//! headers (RDG-Connection-Id, Upgrade: websocket), the body's framing, and of the
//! authentication only the scheme and the decoded token (its mechanism message; never a
//! password, and the token bytes are not kept). `Basic` credentials are never decoded.

use base64::Engine;

use super::spnego::{self, AuthMessage};
use super::{ParseError, ParseResult};

/// Heads larger than this are not a gateway exchange (real ones are under 2 KiB, a
/// Negotiate token included); it bounds what is buffered while a head is incomplete.
pub const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 48;
/// Methods, paths, reasons and ids are cut to this many characters.
const MAX_TEXT: usize = 128;

/// How the body after a head is framed (RFC 9112 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (a response without length).
    UntilClose,
}

/// The token of an `Authorization` or `WWW-Authenticate` header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    /// `Negotiate`, `NTLM`, `Basic`, `Kerberos`, ... as sent.
    pub scheme: String,
    /// The mechanism message inside a Negotiate/NTLM token, if it decodes.
    pub message: Option<AuthMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub connection_id: Option<String>,
    /// `RDG-User-Id`: the user name Windows clients send (base64 of UTF-16LE), decoded.
    pub user_id: Option<String>,
    /// `Upgrade: websocket` (MS-TSGU 2.2.3.1 WebSocket transport).
    pub websocket: bool,
    pub auth: Option<AuthHeader>,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// The first `WWW-Authenticate` challenge.
    pub challenge: Option<AuthHeader>,
    pub body: Body,
}

/// The gateway's methods (MS-TSGU 2.2.3.1.1, MS-RPCH 2.1.2.1) and the usual ones.
pub fn is_request_start(i: &[u8]) -> bool {
    const METHODS: [&[u8]; 6] = [
        b"RDG_OUT_DATA ",
        b"RDG_IN_DATA ",
        b"RPC_IN_DATA ",
        b"RPC_OUT_DATA ",
        b"POST ",
        b"GET ",
    ];
    METHODS.iter().any(|m| {
        let n = i.len().min(m.len());
        n > 0 && i.get(..n) == m.get(..n)
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(MAX_TEXT).collect()
}

fn head_status(s: Result<httparse::Status<usize>, httparse::Error>, len: usize) -> ParseResult<usize> {
    match s {
        Ok(httparse::Status::Complete(n)) => Ok(n),
        Ok(httparse::Status::Partial) if len > MAX_HEAD => {
            Err(ParseError::Malformed("HTTP head longer than the bound"))
        }
        Ok(httparse::Status::Partial) => Err(ParseError::Incomplete),
        Err(_) => Err(ParseError::Malformed("HTTP head does not parse")),
    }
}

/// The framing the headers give (RFC 9112 §6.3); `chunked` wins over a length.
fn body_of(headers: &[httparse::Header<'_>], default: Body) -> ParseResult<Body> {
    let mut body = default;
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") && text(h.value).to_ascii_lowercase().contains("chunked") {
            return Ok(Body::Chunked);
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(ParseError::Malformed("HTTP Content-Length is not a number"))?;
            body = if n == 0 { Body::None } else { Body::Length(n) };
        }
    }
    Ok(body)
}

/// `Scheme token`: the scheme, and the token decoded when it is a GSS/NTLM token.
fn auth_header(v: &[u8]) -> AuthHeader {
    let v = String::from_utf8_lossy(v);
    let mut parts = v.trim().splitn(2, ' ');
    let scheme: String = parts.next().unwrap_or_default().chars().take(32).collect();
    let secretless = !scheme.eq_ignore_ascii_case("basic");
    let message = parts
        .next()
        .filter(|_| secretless)
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t.trim()).ok())
        .and_then(|tok| spnego::parse_nego_token(&tok).ok().and_then(|t| t.message));
    AuthHeader { scheme, message }
}

/// An `RDG-User-Id` value: base64 of the UTF-16LE user name.
fn user_id(v: &[u8]) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD.decode(v.trim_ascii()).ok()?;
    let name = super::ntlm::utf16_text(&raw);
    (!name.is_empty()).then(|| name.chars().take(MAX_TEXT).collect())
}

fn header<'h>(headers: &'h [httparse::Header<'_>], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// A request head and the bytes it took.
pub fn parse_request(i: &[u8]) -> ParseResult<(Request, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let n = head_status(req.parse(i), i.len())?;
    let hs = req.headers;
    let upgrade = header(hs, "upgrade").map(text).unwrap_or_default();
    Ok((
        Request {
            method: text(req.method.unwrap_or_default().as_bytes()),
            path: text(req.path.unwrap_or_default().as_bytes()),
            connection_id: header(hs, "rdg-connection-id").map(text),
            user_id: header(hs, "rdg-user-id").and_then(user_id),
            websocket: upgrade.eq_ignore_ascii_case("websocket"),
            auth: header(hs, "authorization").map(auth_header),
            body: body_of(hs, Body::None)?,
        },
        n,
    ))
}

/// A response head and the bytes it took.
pub fn parse_response(i: &[u8]) -> ParseResult<(Response, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let n = head_status(resp.parse(i), i.len())?;
    let status = resp.code.unwrap_or_default();
    // RFC 9112 §6.3: 1xx, 204 and 304 have no body; 101 hands the connection over.
    let default = if status < 200 || status == 204 || status == 304 {
        Body::None
    } else {
        Body::UntilClose
    };
    let body = if default == Body::None {
        Body::None
    } else {
        body_of(resp.headers, default)?
    };
    Ok((
        Response {
            status,
            reason: text(resp.reason.unwrap_or_default().as_bytes()),
            challenge: header(resp.headers, "www-authenticate").map(auth_header),
            body,
        },
        n,
    ))
}

/// One chunk header of a chunked body (RFC 9112 §7.1): `(bytes of the size line, size)`.
pub fn chunk_header(i: &[u8]) -> ParseResult<(usize, u64)> {
    match httparse::parse_chunk_size(i) {
        Ok(httparse::Status::Complete((n, size))) => Ok((n, size)),
        Ok(httparse::Status::Partial) if i.len() > 256 => Err(ParseError::Malformed("HTTP chunk size line too long")),
        Ok(httparse::Status::Partial) => Err(ParseError::Incomplete),
        Err(_) => Err(ParseError::Malformed("HTTP chunk size does not parse")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdg_out_data_websocket() {
        let r = b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nRDG-Connection-Id: {7485D9AA}\r\nRDG-User-Id: QQBkAG0AaQBuAA==\r\nAuthorization: Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGNFAAAADw==\r\n\r\nrest";
        let (q, n) = parse_request(r).unwrap();
        assert_eq!(n, r.len() - 4);
        assert_eq!(q.method, "RDG_OUT_DATA");
        assert_eq!(q.path, "/remoteDesktopGateway/");
        assert_eq!(q.connection_id.as_deref(), Some("{7485D9AA}"));
        assert!(q.websocket);
        assert_eq!(q.user_id.as_deref(), Some("Admin"));
        let a = q.auth.unwrap();
        assert_eq!(a.scheme, "Negotiate");
        assert!(matches!(a.message, Some(AuthMessage::Ntlm(_))));
        assert_eq!(q.body, Body::None);
    }

    #[test]
    fn basic_is_never_decoded() {
        let r =
            b"RDG_IN_DATA / HTTP/1.1\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\nTransfer-Encoding: chunked\r\n\r\n";
        let (q, _) = parse_request(r).unwrap();
        assert_eq!(
            q.auth,
            Some(AuthHeader {
                scheme: "Basic".into(),
                message: None
            })
        );
        assert_eq!(q.body, Body::Chunked);
    }

    #[test]
    fn responses() {
        let (r, _) =
            parse_response(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 341\r\n\r\n")
                .unwrap();
        assert_eq!(
            (r.status, r.reason.as_str(), r.body),
            (401, "Unauthorized", Body::Length(341))
        );
        assert_eq!(r.challenge.unwrap().scheme, "Negotiate");
        let (r, _) = parse_response(b"HTTP/1.1 101 Switching Protocols\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert_eq!(r.body, Body::None);
        assert_eq!(parse_response(b"HTTP/1.1 403 Forb"), Err(ParseError::Incomplete));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(parse_request(b"\x16\x03\x01").is_err());
    }

    #[test]
    fn chunks() {
        assert_eq!(chunk_header(b"1a\r\nxx"), Ok((4, 26)));
        assert_eq!(chunk_header(b"1a"), Err(ParseError::Incomplete));
        assert!(chunk_header(b"zz\r\n").is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_heads_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_request(&data);
            let _ = parse_response(&data);
            let _ = chunk_header(&data);
        }
    }
}
