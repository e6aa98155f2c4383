//! What the TCP flow table holds: a connection or a half-open attempt, each with the time it
//! is due to be retired if no packet comes, kept in the table entry itself so that a sweep
//! never visits the boxed connections.

use super::flood::HalfOpen;
use super::NS;
use crate::config::Config;
use crate::conn::Connection;
use crate::flow::table::LastSeen;
use crate::ts::Ts;

/// What the TCP flow table holds.
pub(super) enum Flow {
    /// Boxed, like a connection, so that a table entry is small: the table is sized for its
    /// bound and a flood spreads entries over all of it. With the time it is due to be
    /// retired if nothing more comes.
    HalfOpen(Box<HalfOpen>, Ts),
    /// A connection, and its figures as of its last packet.
    Full(Box<Connection>, Acct),
}

/// What the analyzer keeps of a connection next to it in the table, as of its last packet:
/// a sweep reads these without visiting the boxed connection (a cache miss each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Acct {
    /// Bytes held in its reassembly and PDU buffers.
    pub(super) buffered: usize,
    /// When it is retired if nothing more comes: the close linger after it closed, else the
    /// idle timeout after its last packet.
    pub(super) due: Ts,
}

impl Acct {
    pub(super) fn of(c: &Connection, cfg: &Config) -> Acct {
        let wait = if c.tcp.closed() {
            cfg.close_linger_secs.min(cfg.idle_timeout_secs)
        } else {
            cfg.idle_timeout_secs
        };
        Acct {
            buffered: c.buffered(),
            due: after(c.last.ts, wait as i64),
        }
    }
}

/// `secs` seconds after `t`.
pub(super) fn after(t: Ts, secs: i64) -> Ts {
    Ts(t.0.saturating_add(NS.saturating_mul(secs)))
}

impl Flow {
    /// When the flow is retired if no packet comes for it.
    pub(super) fn due(&self) -> Ts {
        match self {
            Flow::HalfOpen(_, due) => *due,
            Flow::Full(_, a) => a.due,
        }
    }
}

impl LastSeen for Flow {
    fn last_seen(&self) -> Ts {
        match self {
            Flow::HalfOpen(h, _) => h.last().ts,
            Flow::Full(c, _) => c.last.ts,
        }
    }
}
