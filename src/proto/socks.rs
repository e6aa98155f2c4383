//! SOCKS, when RDP is tunnelled through a proxy: SOCKS5 (RFC 1928) with username/password
//! authentication (RFC 1929), and SOCKS4/4a. Only what opens the tunnel is parsed: after a
//! successful reply the stream carries RDP from its first byte.
//!
//! Each side's messages are told apart by their first byte and by what that side has sent
//! before ([`ClientStep`], [`ServerStep`]); nothing here needs the other direction's bytes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// Streaming parsers: a message may be cut anywhere by the segments that carry it, and
// too few bytes must read as "incomplete", not as malformed.
use nom::bytes::streaming::take;
use nom::number::streaming::{be_u16, u8 as nom_u8};
use nom::sequence::tuple;
use nom::IResult;

use super::{ParseError, ParseResult};

/// SOCKS4 user ids and 4a host names are NUL-terminated; real ones are short, and this
/// bounds how far a crafted one makes us look for the terminator.
const MAX_SOCKS4_STRING: usize = 255;

/// What a client may send next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStep {
    /// Its first message: a SOCKS5 greeting or a SOCKS4 request.
    First,
    /// After a SOCKS5 greeting: username/password authentication or the request.
    AfterGreeting,
}

/// What a proxy may send next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerStep {
    /// Its first message: the SOCKS5 method selection, or a SOCKS4 reply.
    First,
    /// After it selected username/password (RFC 1929): the authentication status.
    AuthStatus,
    /// The reply to the SOCKS5 request.
    Reply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    /// RFC 1928 §3: VER=5, NMETHODS, METHODS.
    Greeting { methods: Vec<u8> },
    /// RFC 1929 §2: VER=1, ULEN, UNAME, PLEN, PASSWD. The password is never kept.
    Auth { user: String },
    /// RFC 1928 §4 (VER=5) or SOCKS4/4a (VN=4).
    Request(Request),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub version: u8,
    /// 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE (SOCKS5 only).
    pub command: u8,
    pub target: Target,
    /// SOCKS4 USERID (empty when none).
    pub user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMsg {
    /// RFC 1928 §3: VER=5, METHOD (0xFF: no acceptable method).
    Method(u8),
    /// RFC 1929 §2: VER=1, STATUS (0 success).
    AuthStatus(u8),
    /// RFC 1928 §6 (REP, 0 succeeded) or SOCKS4 (CD, 90 granted).
    Reply { version: u8, code: u8 },
}

/// Where the client asked the proxy to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ip(IpAddr, u16),
    Name(String, u16),
}

impl Target {
    pub fn port(&self) -> u16 {
        match self {
            Target::Ip(_, p) | Target::Name(_, p) => *p,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ip(IpAddr::V6(a), p) => write!(f, "[{a}]:{p}"),
            Target::Ip(a, p) => write!(f, "{a}:{p}"),
            Target::Name(n, p) => write!(f, "{n}:{p}"),
        }
    }
}

pub const METHOD_NO_AUTH: u8 = 0x00;
pub const METHOD_USER_PASS: u8 = 0x02;
pub const METHOD_NONE_ACCEPTABLE: u8 = 0xFF;
pub const SOCKS4_GRANTED: u8 = 90;

/// One client message and the bytes it took; `Incomplete` when more are needed.
pub fn parse_client(i: &[u8], step: ClientStep) -> ParseResult<(ClientMsg, usize)> {
    let (msg, rest) = match (step, i.first()) {
        (_, None) => return Err(ParseError::Incomplete),
        (ClientStep::First, Some(4)) => socks4_request(i).map(|(m, r)| (ClientMsg::Request(m), r))?,
        (ClientStep::First, Some(5)) => greeting(i)?,
        (ClientStep::AfterGreeting, Some(1)) => auth(i)?,
        (ClientStep::AfterGreeting, Some(5)) => socks5_request(i).map(|(m, r)| (ClientMsg::Request(m), r))?,
        _ => return Err(ParseError::Malformed("not a SOCKS client message")),
    };
    Ok((msg, i.len() - rest))
}

/// One proxy message and the bytes it took; `Incomplete` when more are needed.
pub fn parse_server(i: &[u8], step: ServerStep) -> ParseResult<(ServerMsg, usize)> {
    let (msg, rest) = match (step, i.first()) {
        (_, None) => return Err(ParseError::Incomplete),
        // SOCKS4 reply: VN=0, CD, DSTPORT, DSTIP (8 bytes).
        (ServerStep::First, Some(0)) => {
            let (r, (_, code, _, _)) = p(tuple((nom_u8, nom_u8, be_u16, take(4usize)))(i))?;
            (ServerMsg::Reply { version: 4, code }, r.len())
        }
        (ServerStep::First, Some(5)) => {
            let (r, (_, m)) = p(tuple((nom_u8, nom_u8))(i))?;
            (ServerMsg::Method(m), r.len())
        }
        (ServerStep::AuthStatus, Some(1)) => {
            let (r, (_, s)) = p(tuple((nom_u8, nom_u8))(i))?;
            (ServerMsg::AuthStatus(s), r.len())
        }
        (ServerStep::Reply, Some(5)) => {
            let (r, (_, code, _rsv)) = p(tuple((nom_u8, nom_u8, nom_u8))(i))?;
            let (r, _bound) = address(r)?;
            (ServerMsg::Reply { version: 5, code }, r.len())
        }
        _ => return Err(ParseError::Malformed("not a SOCKS proxy message")),
    };
    Ok((msg, i.len() - rest))
}

type WithRest<T> = (T, usize);

/// Pins nom's error type and turns its errors into ours (`Incomplete` stays incomplete).
fn p<O>(r: IResult<&[u8], O>) -> ParseResult<(&[u8], O)> {
    r.map_err(ParseError::from)
}

fn greeting(i: &[u8]) -> ParseResult<WithRest<ClientMsg>> {
    let (r, (_, n)) = p(tuple((nom_u8, nom_u8))(i))?;
    if n == 0 {
        return Err(ParseError::Malformed("SOCKS5 greeting offers no method"));
    }
    let (r, methods) = p(take(n)(r))?;
    Ok((
        ClientMsg::Greeting {
            methods: methods.to_vec(),
        },
        r.len(),
    ))
}

fn auth(i: &[u8]) -> ParseResult<WithRest<ClientMsg>> {
    let (r, (_, ulen)) = p(tuple((nom_u8, nom_u8))(i))?;
    let (r, user) = p(take(ulen)(r))?;
    let (r, plen) = p(nom_u8(r))?;
    let (r, _password) = p(take(plen)(r))?;
    Ok((
        ClientMsg::Auth {
            user: String::from_utf8_lossy(user).into_owned(),
        },
        r.len(),
    ))
}

fn socks5_request(i: &[u8]) -> ParseResult<WithRest<Request>> {
    let (r, (_, command, rsv)) = p(tuple((nom_u8, nom_u8, nom_u8))(i))?;
    if !(1..=3).contains(&command) || rsv != 0 {
        return Err(ParseError::Malformed("SOCKS5 request with an unknown command"));
    }
    let (r, target) = address(r)?;
    Ok((
        Request {
            version: 5,
            command,
            target,
            user: None,
        },
        r.len(),
    ))
}

/// RFC 1928 §5: ATYP, then 4 bytes (IPv4), a length-prefixed name, or 16 bytes (IPv6), then
/// the port.
fn address(i: &[u8]) -> ParseResult<(&[u8], Target)> {
    let (r, atyp) = p(nom_u8(i))?;
    let (r, target) = match atyp {
        1 => {
            let (r, (a, port)) = p(tuple((take(4usize), be_u16))(r))?;
            let a: [u8; 4] = a.try_into().map_err(|_| ParseError::Incomplete)?;
            (r, Target::Ip(IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        3 => {
            let (r, n) = p(nom_u8(r))?;
            let (r, (name, port)) = p(tuple((take(n), be_u16))(r))?;
            (r, Target::Name(String::from_utf8_lossy(name).into_owned(), port))
        }
        4 => {
            let (r, (a, port)) = p(tuple((take(16usize), be_u16))(r))?;
            let a: [u8; 16] = a.try_into().map_err(|_| ParseError::Incomplete)?;
            (r, Target::Ip(IpAddr::V6(Ipv6Addr::from(a)), port))
        }
        _ => return Err(ParseError::Malformed("SOCKS5 address of an unknown type")),
    };
    Ok((r, target))
}

/// SOCKS4: VN=4, CD, DSTPORT, DSTIP, USERID, NUL; SOCKS4a puts 0.0.0.x (x ≠ 0) in DSTIP
/// and the host name, NUL-terminated, after the user id.
fn socks4_request(i: &[u8]) -> ParseResult<WithRest<Request>> {
    let (r, (_, command, port, ip)) = p(tuple((nom_u8, nom_u8, be_u16, take(4usize)))(i))?;
    if !(1..=2).contains(&command) {
        return Err(ParseError::Malformed("SOCKS4 request with an unknown command"));
    }
    let ip: [u8; 4] = ip.try_into().map_err(|_| ParseError::Incomplete)?;
    let (r, user) = nul_terminated(r)?;
    let (r, target) = match ip {
        [0, 0, 0, x] if x != 0 => {
            let (r, host) = nul_terminated(r)?;
            (r, Target::Name(host, port))
        }
        _ => (r, Target::Ip(IpAddr::V4(Ipv4Addr::from(ip)), port)),
    };
    Ok((
        Request {
            version: 4,
            command,
            target,
            user: Some(user),
        },
        r.len(),
    ))
}

fn nul_terminated(i: &[u8]) -> ParseResult<(&[u8], String)> {
    match i.iter().take(MAX_SOCKS4_STRING + 1).position(|&b| b == 0) {
        Some(n) => {
            let s = String::from_utf8_lossy(i.get(..n).unwrap_or_default()).into_owned();
            Ok((i.get(n + 1..).unwrap_or_default(), s))
        }
        None if i.len() > MAX_SOCKS4_STRING => Err(ParseError::Malformed("SOCKS4 string without its NUL")),
        None => Err(ParseError::Incomplete),
    }
}

/// Names for reports.
pub fn method_name(m: u8) -> &'static str {
    match m {
        METHOD_NO_AUTH => "no authentication",
        0x01 => "GSSAPI",
        METHOD_USER_PASS => "username/password",
        METHOD_NONE_ACCEPTABLE => "no acceptable method",
        0x03..=0x7F => "IANA-assigned method",
        _ => "private method",
    }
}

pub fn command_name(c: u8) -> &'static str {
    match c {
        1 => "CONNECT",
        2 => "BIND",
        3 => "UDP ASSOCIATE",
        _ => "unknown command",
    }
}

/// Whether a reply opened the tunnel.
pub fn granted(version: u8, code: u8) -> bool {
    if version == 4 {
        code == SOCKS4_GRANTED
    } else {
        code == 0
    }
}

/// RFC 1928 §6 REP values, SOCKS4 CD values.
pub fn reply_name(version: u8, code: u8) -> &'static str {
    match (version, code) {
        (4, 90) => "request granted",
        (4, 91) => "request rejected or failed",
        (4, 92) => "rejected: the proxy could not reach the client's identd",
        (4, 93) => "rejected: identd reported a different user id",
        (4, _) => "unknown SOCKS4 reply",
        (_, 0) => "succeeded",
        (_, 1) => "general SOCKS server failure",
        (_, 2) => "connection not allowed by ruleset",
        (_, 3) => "network unreachable",
        (_, 4) => "host unreachable",
        (_, 5) => "connection refused",
        (_, 6) => "TTL expired",
        (_, 7) => "command not supported",
        (_, 8) => "address type not supported",
        _ => "unknown SOCKS5 reply",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Frames 4-7 of fixtures/real/arkime__socks5-rdp.pcap.
    const GREETING: &[u8] = &[5, 1, 0];
    const METHOD: &[u8] = &[5, 0];
    const REQUEST: &[u8] = &[5, 1, 0, 1, 10, 0, 0, 1, 0x0d, 0x3d];
    const REPLY: &[u8] = &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0];

    #[test]
    fn real_socks5_exchange() {
        let (m, n) = parse_client(GREETING, ClientStep::First).unwrap();
        assert_eq!((m, n), (ClientMsg::Greeting { methods: vec![0] }, 3));
        assert_eq!(
            parse_server(METHOD, ServerStep::First).unwrap(),
            (ServerMsg::Method(0), 2)
        );
        let (m, n) = parse_client(REQUEST, ClientStep::AfterGreeting).unwrap();
        assert_eq!(n, 10);
        let ClientMsg::Request(r) = m else { panic!("{m:?}") };
        assert_eq!(
            (r.version, r.command, r.target.to_string()),
            (5, 1, "10.0.0.1:3389".into())
        );
        let (m, n) = parse_server(REPLY, ServerStep::Reply).unwrap();
        assert_eq!((m, n), (ServerMsg::Reply { version: 5, code: 0 }, 10));
    }

    #[test]
    fn every_prefix_is_incomplete_not_wrong() {
        for k in 1..REQUEST.len() {
            assert_eq!(
                parse_client(&REQUEST[..k], ClientStep::AfterGreeting),
                Err(ParseError::Incomplete)
            );
        }
        for k in 1..REPLY.len() {
            assert_eq!(
                parse_server(&REPLY[..k], ServerStep::Reply),
                Err(ParseError::Incomplete)
            );
        }
    }

    #[test]
    fn names_v6_auth_and_socks4a() {
        let mut req = vec![5, 1, 0, 3, 9];
        req.extend_from_slice(b"rdp.corp1");
        req.extend_from_slice(&3389u16.to_be_bytes());
        let (ClientMsg::Request(r), _) = parse_client(&req, ClientStep::AfterGreeting).unwrap() else {
            panic!()
        };
        assert_eq!(r.target.to_string(), "rdp.corp1:3389");
        let mut v6 = vec![5, 1, 0, 4];
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&3389u16.to_be_bytes());
        let (ClientMsg::Request(r), _) = parse_client(&v6, ClientStep::AfterGreeting).unwrap() else {
            panic!()
        };
        assert_eq!(r.target.to_string(), "[::1]:3389");
        let a = [1, 4, b'u', b's', b'e', b'r', 2, b'p', b'w'];
        assert_eq!(
            parse_client(&a, ClientStep::AfterGreeting).unwrap(),
            (ClientMsg::Auth { user: "user".into() }, 9)
        );
        assert_eq!(
            parse_server(&[1, 1], ServerStep::AuthStatus).unwrap(),
            (ServerMsg::AuthStatus(1), 2)
        );
        let mut s4a = vec![4, 1, 0x0d, 0x3d, 0, 0, 0, 1];
        s4a.extend_from_slice(b"bob\0rdp.corp\0");
        let (ClientMsg::Request(r), n) = parse_client(&s4a, ClientStep::First).unwrap() else {
            panic!()
        };
        assert_eq!(
            (r.version, r.target.to_string(), r.user.as_deref(), n),
            (4, "rdp.corp:3389".into(), Some("bob"), 21)
        );
        assert_eq!(
            parse_server(&[0, 91, 0, 0, 0, 0, 0, 0], ServerStep::First).unwrap(),
            (ServerMsg::Reply { version: 4, code: 91 }, 8)
        );
        assert!(!granted(4, 91) && granted(4, 90) && granted(5, 0) && !granted(5, 5));
    }

    #[test]
    fn rejects_what_is_not_socks() {
        assert!(matches!(
            parse_client(&[3, 0, 0, 0x13], ClientStep::First),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse_client(&[5, 0], ClientStep::First),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse_client(&[5, 9, 0, 1], ClientStep::AfterGreeting),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse_server(&[5, 0, 0, 9], ServerStep::Reply),
            Err(ParseError::Malformed(_))
        ));
        // A SOCKS4 user id without its NUL within the bound.
        let mut long = vec![4, 1, 0, 80, 1, 2, 3, 4];
        long.extend(std::iter::repeat_n(b'a', 300));
        assert!(matches!(
            parse_client(&long, ClientStep::First),
            Err(ParseError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            for s in [ClientStep::First, ClientStep::AfterGreeting] {
                if let Ok((_, n)) = parse_client(&data, s) {
                    prop_assert!(n <= data.len());
                }
            }
            for s in [ServerStep::First, ServerStep::AuthStatus, ServerStep::Reply] {
                if let Ok((_, n)) = parse_server(&data, s) {
                    prop_assert!(n <= data.len());
                }
            }
        }
    }
}
