//! A proxy exchange at the start of a connection, before the first RDP byte: SOCKS
//! (proto::socks) or HTTP CONNECT (proto::http_connect). Each side of the stream steps
//! through its own messages; what they say goes into the connection's proxy facts and
//! timeline, and the stream decoder is told how many bytes each step took.

use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::conn::facts::{HttpConnectFacts, ProxyFacts, RdpFacts, SocksFacts};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::socks::{self, ClientMsg, ClientStep, ServerMsg, ServerStep};
use crate::proto::{http_connect, ParseError};

/// Where this side is in a proxy exchange that may come before RDP: SOCKS (proto::socks)
/// or HTTP CONNECT (proto::http_connect).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tunnel {
    /// Nothing of this side's stream seen yet: it may open with a proxy request.
    #[default]
    Maybe,
    Client(ClientStep),
    Server(ServerStep),
    /// CONNECT requests (another may follow a 407) and the proxy's responses.
    HttpClient,
    HttpServer,
    /// Not a proxy exchange, or the exchange is over.
    No,
}

/// What one step did with the bytes at hand.
pub enum Unit {
    /// Took this many bytes (0: not a proxy exchange after all).
    Took(usize),
    /// Took these bytes, and the next `skip` bytes (the rest of an error page) are to be skipped.
    TookAndSkip(usize, usize),
    /// The rest of the stream is an error page until the proxy closes: nothing more to learn.
    Rest,
    NeedMore,
    Malformed(&'static str),
}

/// One step of `side`'s proxy exchange over `rest` (the bytes not yet consumed).
pub fn unit(state: &mut Tunnel, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Unit {
    let (after_socks, after_http) = match &ctx.facts.proxy {
        Some(ProxyFacts::Socks(_)) => (true, false),
        Some(ProxyFacts::Http(_)) => (false, true),
        None => (false, false),
    };
    let step = match (*state, side, rest.first()) {
        (Tunnel::Maybe, Side::Client, Some(4 | 5)) => Tunnel::Client(ClientStep::First),
        (Tunnel::Maybe, Side::Client, _) if http_connect::is_request_start(rest) => Tunnel::HttpClient,
        // The proxy's side is a proxy exchange only when the client's was.
        (Tunnel::Maybe, Side::Server, Some(0 | 5)) if after_socks => Tunnel::Server(ServerStep::First),
        (Tunnel::Maybe, Side::Server, _) if after_http => Tunnel::HttpServer,
        (Tunnel::HttpClient, ..) if !http_connect::is_request_start(rest) => Tunnel::No,
        (Tunnel::HttpServer, ..) if !http_connect::is_response_start(rest) => Tunnel::No,
        (Tunnel::Maybe, ..) => Tunnel::No,
        (s, ..) => s,
    };
    let parsed = match step {
        Tunnel::Client(s) => socks::parse_client(rest, s).map(|(m, n)| (socks_client(at, m, ctx), Some(n))),
        Tunnel::Server(s) => socks::parse_server(rest, s).map(|(m, n)| (socks_server(at, m, ctx), Some(n))),
        Tunnel::HttpClient => http_connect::parse_request(rest).map(|(r, n)| {
            http_request(at, r, ctx);
            (Tunnel::HttpClient, Some(n))
        }),
        Tunnel::HttpServer => http_connect::parse_response(rest).map(|(r, n)| {
            let body = r.body;
            http_response(at, r, ctx);
            match body {
                // An error page of known length: skip it (another answer may follow a 407).
                Some(b) if b <= http_connect::MAX_BODY => (Tunnel::HttpServer, Some(n.saturating_add(b))),
                // A page that runs until the proxy closes.
                _ => (Tunnel::No, None),
            }
        }),
        Tunnel::Maybe | Tunnel::No => {
            *state = Tunnel::No;
            return Unit::Took(0);
        }
    };
    match parsed {
        Ok((next, None)) => {
            *state = next;
            Unit::Rest
        }
        Ok((next, Some(n))) => {
            *state = next;
            match n.checked_sub(rest.len()) {
                Some(skip) if skip > 0 => Unit::TookAndSkip(rest.len(), skip),
                _ => Unit::Took(n),
            }
        }
        Err(ParseError::Incomplete) => {
            *state = step;
            Unit::NeedMore
        }
        Err(ParseError::Malformed(what)) => {
            *state = Tunnel::No;
            Unit::Malformed(what)
        }
    }
}

/// Update the connection's proxy facts of one kind: taken out (fresh ones if none, or of
/// the other kind), changed by `f`, put back. The client's first message creates them.
fn update<T: Default, R>(
    facts: &mut RdpFacts,
    kind: fn(ProxyFacts) -> Option<T>,
    wrap: fn(T) -> ProxyFacts,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut t = facts.proxy.take().and_then(kind).unwrap_or_default();
    let r = f(&mut t);
    facts.proxy = Some(wrap(t));
    r
}

fn with_socks<R>(facts: &mut RdpFacts, f: impl FnOnce(&mut SocksFacts) -> R) -> R {
    let kind = |p| if let ProxyFacts::Socks(s) = p { Some(s) } else { None };
    update(facts, kind, ProxyFacts::Socks, f)
}

fn with_http<R>(facts: &mut RdpFacts, f: impl FnOnce(&mut HttpConnectFacts) -> R) -> R {
    let kind = |p| if let ProxyFacts::Http(h) = p { Some(h) } else { None };
    update(facts, kind, ProxyFacts::Http, f)
}

/// Record a client SOCKS message; returns what the client may send next.
fn socks_client(at: At, m: ClientMsg, ctx: &mut Ctx<'_>) -> Tunnel {
    let next = with_socks(ctx.facts, |p| match &m {
        ClientMsg::Greeting { methods } => {
            p.greeting = Some((at, methods.clone()));
            Tunnel::Client(ClientStep::AfterGreeting)
        }
        ClientMsg::Auth { user } => {
            p.auth = Some((at, user.clone()));
            Tunnel::Client(ClientStep::AfterGreeting)
        }
        ClientMsg::Request(r) => {
            p.request = Some((at, r.clone()));
            Tunnel::No
        }
    });
    ctx.event(at, Side::Client, EventKind::SocksClient(Box::new(m)));
    next
}

/// Record a proxy SOCKS message; returns what the proxy may send next.
fn socks_server(at: At, m: ServerMsg, ctx: &mut Ctx<'_>) -> Tunnel {
    let next = with_socks(ctx.facts, |p| match m {
        ServerMsg::Method(x) => {
            p.method = Some((at, x));
            match x {
                socks::METHOD_USER_PASS => Tunnel::Server(ServerStep::AuthStatus),
                socks::METHOD_NONE_ACCEPTABLE => Tunnel::No,
                _ => Tunnel::Server(ServerStep::Reply),
            }
        }
        ServerMsg::AuthStatus(s) => {
            p.auth_status = Some((at, s));
            Tunnel::Server(ServerStep::Reply)
        }
        ServerMsg::Reply { version, code } => {
            p.reply = Some((at, version, code));
            Tunnel::No
        }
    });
    ctx.event(at, Side::Server, EventKind::SocksServer(m));
    next
}

fn http_request(at: At, r: http_connect::Request, ctx: &mut Ctx<'_>) {
    let authority = r.authority.clone();
    with_http(ctx.facts, |h| {
        h.requests = h.requests.saturating_add(1);
        h.request = Some((at, r));
    });
    ctx.event(at, Side::Client, EventKind::HttpConnect { authority });
}

fn http_response(at: At, r: http_connect::Response, ctx: &mut Ctx<'_>) {
    let (status, reason) = (r.status, r.reason.clone());
    with_http(ctx.facts, |h| {
        h.responses = h.responses.saturating_add(1);
        if !r.granted() && h.first_refusal.is_none() {
            h.first_refusal = Some((at, r.status));
        }
        h.response = Some((at, r));
    });
    ctx.event(at, Side::Server, EventKind::HttpStatus { status, reason });
}
