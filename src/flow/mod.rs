//! TCP flows: who is client and server, per-direction reassembly, and the TCP-level
//! facts (handshake, RTT, retransmissions, closes) that the diagnosis relies on.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod community_id;
pub mod reassembly;
pub mod table;
pub mod tcp;

use std::net::IpAddr;

use serde::Serialize;

/// Which end of a connection sent something.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// "client" or "server", as reports say it.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    /// This side's element of a per-side pair, without indexing.
    pub fn of<T>(self, pair: &[T; 2]) -> &T {
        let [c, s] = pair;
        match self {
            Side::Client => c,
            Side::Server => s,
        }
    }

    pub fn of_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [c, s] = pair;
        match self {
            Side::Client => c,
            Side::Server => s,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Side::Client => 'C',
            Side::Server => 'S',
        }
    }
}

/// The side a packet from `src` comes from, in a flow whose client is `client`.
pub fn side_of(client: Endpoint, src: Endpoint) -> Side {
    if src == client {
        Side::Client
    } else {
        Side::Server
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

/// `10.0.0.1:3389`, `[2001:db8::1]:3389`.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
        }
    }
}

/// A flow key that is the same for both directions of a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: Endpoint,
    hi: Endpoint,
}

impl FlowKey {
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if a <= b {
            FlowKey { lo: a, hi: b }
        } else {
            FlowKey { lo: b, hi: a }
        }
    }
}
