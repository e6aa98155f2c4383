//! HTTP CONNECT (RFC 9110 §9.3.6), when RDP is tunnelled through an HTTP proxy: the client's
//! `CONNECT host:port` request and the proxy's status line, read with `httparse`. After a 2xx
//! the stream carries RDP; after a 407 the client may ask again on the same connection.
//! Credentials (`Proxy-Authorization`) are never kept: only their scheme.

use super::socks::Target;
use super::{ParseError, ParseResult};

/// Request or response heads larger than this are not a proxy handshake (real ones are a
/// few hundred bytes); it bounds what the stream decoder buffers before giving up.
pub const MAX_HEAD: usize = 8192;
/// A response body (an error page) larger than this is not skipped but left to resync.
pub const MAX_BODY: usize = 65536;
const MAX_HEADERS: usize = 32;
/// Reason phrases and schemes are cut to this length.
const MAX_TEXT: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The authority as sent (`host:port`), and parsed when it parses.
    pub authority: String,
    pub target: Option<Target>,
    /// Scheme of `Proxy-Authorization` (`Basic`, `NTLM`, `Negotiate`), never the credentials.
    pub auth_scheme: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Scheme of the first `Proxy-Authenticate` challenge (with a 407).
    pub challenge: Option<String>,
    /// What follows the head: nothing (a 2xx: the tunnel), `Content-Length` bytes of an
    /// error page, or (`None`) a page that runs until the proxy closes.
    pub body: Option<usize>,
}

impl Response {
    pub fn granted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub fn is_request_start(i: &[u8]) -> bool {
    prefix_of(i, b"CONNECT ")
}

pub fn is_response_start(i: &[u8]) -> bool {
    prefix_of(i, b"HTTP/")
}

/// Whether `i` starts with `p`, or is a start of `p` (more bytes may confirm it).
fn prefix_of(i: &[u8], p: &[u8]) -> bool {
    let n = i.len().min(p.len());
    n > 0 && i.get(..n) == p.get(..n)
}

/// A CONNECT request head and the bytes it took.
pub fn parse_request(i: &[u8]) -> ParseResult<(Request, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let n = complete(req.parse(i), i.len())?;
    if req.method != Some("CONNECT") {
        return Err(ParseError::Malformed("HTTP request that is not a CONNECT"));
    }
    let authority = req.path.unwrap_or_default();
    Ok((
        Request {
            authority: cut(authority),
            target: target_of(authority),
            auth_scheme: header(req.headers, "proxy-authorization").map(scheme),
        },
        n,
    ))
}

/// A response head and the bytes it took (the body, if any, is not included).
pub fn parse_response(i: &[u8]) -> ParseResult<(Response, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let n = complete(resp.parse(i), i.len())?;
    let status = resp.code.unwrap_or_default();
    let length = header(resp.headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
    Ok((
        Response {
            status,
            reason: cut(resp.reason.unwrap_or_default()),
            challenge: header(resp.headers, "proxy-authenticate").map(scheme),
            // A 2xx to CONNECT has no body: the tunnel starts right after the head.
            body: if (200..300).contains(&status) { Some(0) } else { length },
        },
        n,
    ))
}

fn complete(r: httparse::Result<usize>, have: usize) -> ParseResult<usize> {
    match r {
        Ok(httparse::Status::Complete(n)) => Ok(n),
        Ok(httparse::Status::Partial) if have > MAX_HEAD => Err(ParseError::Malformed("HTTP head beyond 8 KiB")),
        Ok(httparse::Status::Partial) => Err(ParseError::Incomplete),
        Err(httparse::Error::TooManyHeaders) => Err(ParseError::Malformed("HTTP head with too many headers")),
        Err(_) => Err(ParseError::Malformed("malformed HTTP head")),
    }
}

fn header<'a>(h: &[httparse::Header<'a>], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|x| x.name.eq_ignore_ascii_case(name))
        .map(|x| std::str::from_utf8(x.value).unwrap_or_default())
}

/// The scheme word of an authorization header, never what follows it.
fn scheme(v: &str) -> String {
    cut(v.split_whitespace().next().unwrap_or_default())
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_TEXT).collect()
}

/// `host:port`, `1.2.3.4:port` or `[v6]:port`.
fn target_of(authority: &str) -> Option<Target> {
    let (host, port) = authority.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    Some(match host.parse() {
        Ok(ip) => Target::Ip(ip, port),
        Err(_) => Target::Name(cut(host), port),
    })
}

/// Status names for reports where the proxy gave no reason phrase.
pub fn status_name(status: u16) -> &'static str {
    match status {
        200..=299 => "connection established",
        400 => "bad request",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        407 => "proxy authentication required",
        500 => "internal error",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        _ => "other status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // What FreeRDP 2.11 sends through /proxy:http://...
    const REQ: &[u8] = b"CONNECT 10.99.0.1:3389 HTTP/1.1\r\nHost: 10.99.0.1:3389\r\n\r\n";

    #[test]
    fn request_and_responses() {
        let (r, n) = parse_request(REQ).unwrap();
        assert_eq!(n, REQ.len());
        assert_eq!(r.target.unwrap().to_string(), "10.99.0.1:3389");
        let ok = b"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n\x03\x00";
        let (r, n) = parse_response(ok).unwrap();
        assert_eq!((r.status, r.granted(), n), (200, true, ok.len() - 2));
        let deny = b"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 12\r\n\r\n<html></html";
        let (r, _) = parse_response(deny).unwrap();
        assert_eq!(
            (r.status, r.challenge.as_deref(), r.body),
            (407, Some("Basic"), Some(12))
        );
        // tinyproxy: no Content-Length, the page runs until it closes.
        let forbidden = b"HTTP/1.1 403 Access violation\r\nServer: tinyproxy/1.11.1\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
        let (r, _) = parse_response(forbidden).unwrap();
        assert_eq!((r.status, r.reason.as_str(), r.body), (403, "Access violation", None));
    }

    #[test]
    fn credentials_are_not_kept() {
        let req = b"CONNECT rdp.corp:3389 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n";
        let (r, _) = parse_request(req).unwrap();
        assert_eq!(r.auth_scheme.as_deref(), Some("Basic"));
        assert!(!format!("{r:?}").contains("dXNlcjpzZWNyZXQ"));
        assert_eq!(r.target.unwrap().to_string(), "rdp.corp:3389");
    }

    #[test]
    fn partial_heads_are_incomplete_and_bounded() {
        for k in 1..REQ.len() {
            assert_eq!(parse_request(&REQ[..k]), Err(ParseError::Incomplete), "{k}");
            assert!(is_request_start(&REQ[..k]));
        }
        let mut long = b"CONNECT a:1 HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD + 1));
        assert!(matches!(parse_request(&long), Err(ParseError::Malformed(_))));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(!is_request_start(b"\x03\x00\x00\x13"));
        assert_eq!(
            parse_request(b"CONNECT [::1]:3389 HTTP/1.1\r\n\r\n")
                .unwrap()
                .0
                .target
                .unwrap()
                .to_string(),
            "[::1]:3389"
        );
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok((_, n)) = parse_request(&data) {
                prop_assert!(n <= data.len());
            }
            if let Ok((_, n)) = parse_response(&data) {
                prop_assert!(n <= data.len());
            }
        }
    }
}
