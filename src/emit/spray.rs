//! Brute force and password spraying, per client address: many failed authentication or
//! negotiation attempts from one source within a window (`brute_force`), or failures for
//! many distinct user names from one source within a window (`password_spray`). Windows'
//! event log loses the client address of NLA failures (event 4625 without an IP); the wire
//! keeps it. Time is the packets' (each record's start). Bounded: at most
//! [`Thresholds::max_sources`] sources are followed at once, and per source only what the
//! thresholds need (docs/limits.md).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;

use serde::Serialize;

use crate::diagnosis::Outcome;
use crate::record::ConnectionRecord;
use crate::ts::Ts;

/// Causes that count as a failed attempt: the server refused the credentials or the logon,
/// or the security negotiation failed (scanners and brute-force tools that cannot do NLA).
pub const ATTEMPT_CAUSES: &[&str] = &[
    "nla_failed",
    "nla_client_abort",
    "early_auth_denied",
    "logon_failed",
    "kerberos_error",
    "negotiation_failure",
    "security_layer_mismatch",
];

/// The codes of this module's findings (docs/findings.md).
pub const ATTACK_CODES: &[&str] = &["brute_force", "password_spray"];

/// User names, connection ids and servers kept per source and per detection, as examples.
const SAMPLES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Failed attempts from one source within `window_secs` that make a brute force.
    pub brute_force: usize,
    /// Distinct user names failing from one source within `window_secs` that make spraying.
    pub spray_users: usize,
    pub window_secs: u32,
    /// Sources followed at once; the least recently active one makes room.
    pub max_sources: usize,
}

impl Thresholds {
    pub fn from_config(c: &crate::config::Config) -> Thresholds {
        Thresholds {
            brute_force: c.brute_force_attempts,
            spray_users: c.spray_users,
            window_secs: c.attack_window_secs,
            max_sources: c.max_attack_sources,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::from_config(&crate::config::Config::default())
    }
}

/// Detections kept for a run; later ones are counted, not kept (docs/limits.md).
pub const MAX_DETECTIONS: usize = 1000;

/// One source's attack as the wire showed it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detection {
    /// `brute_force` or `password_spray`.
    pub code: &'static str,
    pub source: IpAddr,
    pub first_seen: String,
    pub last_seen: String,
    /// Failed attempts counted from the first to the last (all of them, not only the window's).
    pub failures: u64,
    /// Distinct user names seen failing (up to the spraying threshold are told apart).
    pub distinct_users: usize,
    /// Examples of the user names (redacted under --redact), of the servers, and of the
    /// connection ids (their records cite the frames).
    pub users: Vec<String>,
    pub servers: Vec<IpAddr>,
    pub connections: Vec<u64>,
    pub window_secs: u32,
    /// What to do (the catalogue's text, docs/findings.md).
    pub remedy: &'static str,
    #[serde(skip)]
    pub last: Ts,
}

#[derive(Debug, Clone, Default)]
struct Source {
    /// Start times of the failures within the window (at most `brute_force` kept).
    recent: VecDeque<Ts>,
    /// User names failing within the window, with their last time (at most `spray_users`).
    users: HashMap<String, Ts>,
    last: Ts,
    detections: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Detector {
    t: Thresholds,
    sources: HashMap<IpAddr, Source>,
    pub detections: Vec<Detection>,
    /// Sources let go of to stay within `max_sources` while still in their window.
    pub sources_evicted: u64,
    /// Detections beyond [`MAX_DETECTIONS`].
    pub detections_dropped: u64,
    latest: Ts,
}

impl Detector {
    pub fn new(t: Thresholds) -> Detector {
        Detector {
            t,
            ..Default::default()
        }
    }

    fn window_ns(&self) -> i64 {
        i64::from(self.t.window_secs) * 1_000_000_000
    }

    pub fn add(&mut self, r: &ConnectionRecord) {
        self.latest = self.latest.max(r.start);
        if r.outcome != Outcome::Failed || !ATTEMPT_CAUSES.contains(&r.cause()) {
            return;
        }
        let now = r.start;
        let horizon = Ts(now.0.saturating_sub(self.window_ns()));
        if !self.sources.contains_key(&r.client.ip) && self.sources.len() >= self.t.max_sources.max(1) {
            self.make_room(horizon);
        }
        let (bf, spray) = (self.t.brute_force.max(1), self.t.spray_users.max(1));
        let s = self.sources.entry(r.client.ip).or_default();
        s.last = now;
        while s.recent.front().is_some_and(|t| *t < horizon) {
            s.recent.pop_front();
        }
        s.recent.push_back(now);
        if s.recent.len() > bf {
            s.recent.pop_front();
        }
        s.users.retain(|_, t| *t >= horizon);
        if let Some((u, _)) = r.user_name() {
            if s.users.len() < spray || s.users.contains_key(u) {
                s.users.insert(u.chars().take(256).collect(), now);
            }
        }
        let hits = [
            ("brute_force", s.recent.len() >= bf),
            ("password_spray", s.users.len() >= spray),
        ];
        let users: BTreeSet<String> = s.users.keys().cloned().collect();
        let window_failures = s.recent.len() as u64;
        let window_start = s.recent.front().copied().unwrap_or(now);
        for (code, hit) in hits {
            let open = s.detections.iter().copied().find(|i| {
                self.detections
                    .get(*i)
                    .is_some_and(|d| d.code == code && d.last >= horizon)
            });
            if let Some(d) = open.and_then(|i| self.detections.get_mut(i)) {
                extend(d, r, &users);
            } else if hit && self.detections.len() >= MAX_DETECTIONS {
                self.detections_dropped += 1;
            } else if hit {
                let mut d = Detection {
                    code,
                    source: r.client.ip,
                    first_seen: window_start.rfc3339(),
                    last_seen: String::new(),
                    // The window's earlier failures; this one is added by `extend`.
                    failures: window_failures.saturating_sub(1),
                    distinct_users: 0,
                    users: Vec::new(),
                    servers: Vec::new(),
                    connections: Vec::new(),
                    window_secs: self.t.window_secs,
                    remedy: crate::diagnosis::catalog::remedy(code),
                    last: now,
                };
                extend(&mut d, r, &users);
                s.detections.push(self.detections.len());
                self.detections.push(d);
            }
        }
    }

    /// Room for one more source: sources idle beyond the window go first, else the least
    /// recently active one.
    fn make_room(&mut self, horizon: Ts) {
        let before = self.sources.len();
        self.sources.retain(|_, s| s.last >= horizon);
        if self.sources.len() < before {
            return;
        }
        if let Some(ip) = self
            .sources
            .iter()
            .min_by_key(|(ip, s)| (s.last, **ip))
            .map(|(ip, _)| *ip)
        {
            self.sources.remove(&ip);
            self.sources_evicted += 1;
        }
    }

    /// Sources with a detection whose last failure is within the window of the newest packet.
    pub fn active_sources(&self) -> Vec<&Detection> {
        let horizon = Ts(self.latest.0.saturating_sub(self.window_ns()));
        let mut seen = BTreeSet::new();
        self.detections
            .iter()
            .rev()
            .filter(|d| d.last >= horizon && seen.insert(d.source))
            .collect()
    }
}

fn extend(d: &mut Detection, r: &ConnectionRecord, users: &BTreeSet<String>) {
    d.failures += 1;
    d.last = r.start;
    d.last_seen.clone_from(&r.first_seen);
    d.distinct_users = d.distinct_users.max(users.len());
    for u in users {
        if d.users.len() < SAMPLES && !d.users.contains(u) {
            d.users.push(u.clone());
        }
    }
    if d.servers.len() < SAMPLES && !d.servers.contains(&r.server.ip) {
        d.servers.push(r.server.ip);
    }
    if d.connections.len() < SAMPLES {
        d.connections.push(r.id);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::diagnosis::{Finding, Phase, Severity};
    use crate::flow::Endpoint;

    /// A failed record from `client` at `secs`, its cause `nla_failed`, cookie `user`.
    fn failed(template: &ConnectionRecord, id: u64, client: IpAddr, secs: i64, user: &str) -> ConnectionRecord {
        let mut r = template.clone();
        r.id = id;
        r.client = Endpoint {
            ip: client,
            port: 50000,
        };
        r.start = Ts(secs * 1_000_000_000);
        r.first_seen = r.start.rfc3339();
        r.cookie = Some(user.to_string());
        r
    }

    fn template() -> ConnectionRecord {
        let cfg = crate::config::Config::default();
        let mut a = crate::analyzer::Analyzer::new(cfg.clone(), 1);
        // A UDP datagram makes the smallest real record; its verdict is then set by hand.
        let mut pkt = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(50000, 3389)
            .write(&mut pkt, &[0u8; 8])
            .unwrap();
        a.on_frame(1, Ts(0), crate::decode::LinkType::RawIp, &pkt, pkt.len() as u32);
        let (done, _) = a.finish();
        let mut r = crate::emit::record(&done[0], &cfg);
        r.outcome = Outcome::Failed;
        r.findings = vec![Finding {
            code: "nla_failed",
            severity: Severity::Error,
            phase: Phase::Nla,
            summary: String::new(),
            detail: String::new(),
            frames: vec![1],
            inferred: true,
            client_error: None,
            remedy: "",
        }];
        r
    }

    #[test]
    fn sources_stay_bounded_under_any_number_of_them() {
        let t = template();
        let mut d = Detector::new(Thresholds {
            max_sources: 100,
            ..Default::default()
        });
        // 50,000 sources, one failure each, all within one window: no detection, bounded.
        for i in 0..50_000u32 {
            d.add(&failed(
                &t,
                u64::from(i),
                IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
                1,
                "u",
            ));
            assert!(d.sources.len() <= 100);
        }
        assert!(d.detections.is_empty());
        assert!(d.sources_evicted > 0);
        // A source that keeps failing among them is still caught.
        let bad = IpAddr::from([192, 0, 2, 1]);
        for i in 0..20 {
            d.add(&failed(&t, 100_000 + i, bad, 2, "admin"));
            d.add(&failed(&t, 200_000 + i, IpAddr::from([198, 51, 100, i as u8]), 2, "x"));
        }
        assert_eq!(d.detections.len(), 1);
        assert_eq!(d.detections[0].source, bad);
        assert_eq!(d.detections[0].failures, 20);
        assert_eq!(d.active_sources().len(), 1);
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t = template();
        let mut d = Detector::new(Thresholds::default());
        let ip = IpAddr::from([192, 0, 2, 9]);
        // One failure every 20 s: at most 15 in any 300 s window, below 20.
        for i in 0..100 {
            d.add(&failed(&t, i, ip, 20 * i as i64, "admin"));
        }
        assert!(d.detections.is_empty());
    }
}
