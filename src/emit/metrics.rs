//! Counters over finished connections for the Prometheus exposition (`live --metrics`,
//! `analyze --format prometheus`). Updated once per finished connection, never per packet;
//! every label set is bounded: outcomes and phases are fixed lists, causes are the catalogue's
//! finding codes (docs/findings.md), servers (opt-in) are the N busiest.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::diagnosis::{Outcome, Phase};
use crate::record::ConnectionRecord;

/// Upper bounds (seconds) of the handshake RTT histogram: LAN to intercontinental.
pub const RTT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

pub const OUTCOMES: [Outcome; 3] = [Outcome::Success, Outcome::Failed, Outcome::Incomplete];
pub const PHASES: [Phase; 7] = [
    Phase::Tcp,
    Phase::X224,
    Phase::Tls,
    Phase::Nla,
    Phase::Rdp,
    Phase::Session,
    Phase::Logon,
];

/// (connections, failures) of one server.
pub type Counts = (u64, u64);

/// Per-server failures kept for the opt-in `server` label: the busiest `limit` by
/// connections, and at most `4 × limit` candidates (docs/limits.md).
#[derive(Debug, Clone, Default)]
pub struct ServerCounts {
    pub limit: usize,
    /// Server address → (connections, failures).
    pub counts: BTreeMap<IpAddr, Counts>,
    /// Connections of servers no longer (or never) tracked.
    pub other: Counts,
}

impl ServerCounts {
    fn add(&mut self, ip: IpAddr, failed: bool) {
        let f = u64::from(failed);
        if let Some(c) = self.counts.get_mut(&ip) {
            c.0 += 1;
            c.1 += f;
            return;
        }
        if self.counts.len() >= self.limit.saturating_mul(4) {
            // Full: the least busy candidate goes to `other`, the newcomer takes its place.
            let least = self.counts.iter().min_by_key(|(_, c)| c.0).map(|(ip, c)| (*ip, *c));
            match least {
                Some((old, c)) if c.0 <= 1 => {
                    self.counts.remove(&old);
                    self.other.0 += c.0;
                    self.other.1 += c.1;
                }
                _ => {
                    self.other.0 += 1;
                    self.other.1 += f;
                    return;
                }
            }
        }
        self.counts.insert(ip, (1, f));
    }

    /// The `limit` busiest servers, busiest first, and the rest summed.
    pub fn top(&self) -> (Vec<(IpAddr, Counts)>, Counts) {
        let mut v: Vec<(IpAddr, Counts)> = self.counts.iter().map(|(ip, c)| (*ip, *c)).collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        let rest = v.split_off(self.limit.min(v.len()));
        let other = rest.iter().fold(self.other, |acc, (_, c)| (acc.0 + c.0, acc.1 + c.1));
        (v, other)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// By outcome, in the order of [`OUTCOMES`].
    pub connections: [u64; 3],
    /// Failed connections by the code of their cause.
    pub failures: BTreeMap<&'static str, u64>,
    /// Connections by the phase they reached, in the order of [`PHASES`].
    pub phase_reached: [u64; 7],
    /// Handshake RTTs: count per bucket of [`RTT_BUCKETS`] (not cumulative), then the rest.
    pub rtt_buckets: [u64; 13],
    pub rtt_sum_seconds: f64,
    pub rtt_count: u64,
    /// `--metrics-servers N`: per-server counts (None: no server label).
    pub servers: Option<ServerCounts>,
}

impl Metrics {
    /// Metrics with the opt-in per-server label bounded to `servers` busiest (0: none).
    pub fn new(servers: usize) -> Metrics {
        Metrics {
            servers: (servers > 0).then(|| ServerCounts {
                limit: servers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn add(&mut self, r: &ConnectionRecord) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == r.outcome) {
            if let Some(c) = self.connections.get_mut(i) {
                *c += 1;
            }
        }
        if r.outcome == Outcome::Failed {
            *self.failures.entry(r.cause()).or_default() += 1;
        }
        if let Some(c) = PHASES
            .iter()
            .position(|p| *p == r.phase_reached)
            .and_then(|i| self.phase_reached.get_mut(i))
        {
            *c += 1;
        }
        if let Some(ms) = r.tcp.as_ref().and_then(|t| t.handshake_rtt_ms) {
            let s = ms / 1000.0;
            let i = RTT_BUCKETS.iter().position(|b| s <= *b).unwrap_or(RTT_BUCKETS.len());
            if let Some(c) = self.rtt_buckets.get_mut(i) {
                *c += 1;
            }
            self.rtt_sum_seconds += s;
            self.rtt_count += 1;
        }
        if let Some(s) = self.servers.as_mut() {
            s.add(r.server.ip, r.outcome == Outcome::Failed);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn servers_stay_bounded_and_the_busiest_keep_their_label() {
        let mut s = ServerCounts {
            limit: 2,
            ..Default::default()
        };
        let busy: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..50 {
            s.add(busy, true);
        }
        for i in 0..10_000u32 {
            s.add(IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + i)), false);
            assert!(s.counts.len() <= 8);
        }
        let (top, other) = s.top();
        assert_eq!(top[0], (busy, (50, 50)));
        assert_eq!(top.len(), 2);
        let total: u64 = top.iter().map(|(_, c)| c.0).sum::<u64>() + other.0;
        assert_eq!(total, 10_050);
    }
}
