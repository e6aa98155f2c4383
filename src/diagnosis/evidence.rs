//! Facts derived once per connection for the rules: who closed first and when, whether
//! the TLS handshake completed, how many application records each side sent after it.

use crate::conn::Connection;
use crate::diagnosis::phase::{self, Phase};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::x224::Protocols;

/// A FIN or RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseEv {
    pub side: Side,
    pub rst: bool,
    pub at: At,
}

impl CloseEv {
    pub fn what(&self) -> &'static str {
        if self.rst {
            "RST"
        } else {
            "FIN"
        }
    }
}

pub struct Evidence<'a> {
    pub c: &'a Connection,
    pub phase: Phase,
    /// Every FIN and RST, in frame order.
    pub closes: Vec<CloseEv>,
    /// Application-data records per side after the TLS handshake.
    pub post_handshake: [u64; 2],
    /// HYBRID or HYBRID_EX selected: CredSSP follows the TLS handshake.
    pub nla: bool,
    pub hybrid_ex: bool,
}

impl<'a> Evidence<'a> {
    pub fn new(c: &'a Connection) -> Evidence<'a> {
        let mut closes: Vec<CloseEv> = c
            .tcp
            .fins
            .iter()
            .map(|f| CloseEv {
                side: f.side,
                rst: false,
                at: f.at,
            })
            .chain(c.tcp.rsts.iter().map(|r| CloseEv {
                side: r.side,
                rst: true,
                at: r.at,
            }))
            .collect();
        closes.sort_by_key(|e| (e.at.frame, e.rst));
        let selected = c.facts.selected_protocol().unwrap_or_default();
        Evidence {
            c,
            phase: phase::reached(c),
            closes,
            post_handshake: phase::post_handshake_records(&c.facts.tls),
            nla: selected.is_nla(),
            hybrid_ex: selected.contains(Protocols::HYBRID_EX),
        }
    }

    pub fn first_close(&self) -> Option<CloseEv> {
        self.closes.first().copied()
    }

    pub fn first_close_by(&self, side: Side) -> Option<CloseEv> {
        self.closes.iter().find(|e| e.side == side).copied()
    }

    /// When the TLS handshake completed: the server's ChangeCipherSpec/Finished (TLS ≤ 1.2),
    /// or the client's Finished, its first protected record (TLS 1.3).
    pub fn tls_done(&self) -> Option<At> {
        let t = &self.c.facts.tls;
        if t.is_tls13() {
            return t.app_records.iter().find(|r| r.side == Side::Client).map(|r| r.at);
        }
        match (t.change_cipher_spec[1], t.encrypted_handshake[1]) {
            (Some(a), Some(b)) => Some(if b.frame > a.frame { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Seconds between two points of the connection.
    pub fn secs(a: At, b: At) -> f64 {
        b.ts.ms_since(a.ts) / 1000.0
    }

    /// The last captured frame of the connection.
    pub fn last(&self) -> At {
        self.c.last
    }
}
