//! What live views read of the analyzer while it runs: the open connections (the most recently
//! active first, bounded) and the open RDP-UDP flows.

use std::borrow::Cow;

use super::{Analyzer, Flow};
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use crate::flow::table::LastSeen;

impl Analyzer {
    /// Connections currently tracked (for live views), attempts that have so far only sent
    /// SYNs included: those are built from their small entry on each call (a firewall that
    /// drops SYNs is the failure a live user most needs to see while it happens). Attempts
    /// against a server under a SYN flood have no id and are counted in its summary instead.
    pub fn open_connections(&self) -> impl Iterator<Item = Cow<'_, Connection>> {
        self.tcp.values().filter_map(|f| self.listed(f))
    }

    /// The `n` most recently active of [`Analyzer::open_connections`], and how many there are
    /// in all: a live view refreshes several times a second and cannot afford a record per
    /// connection of a busy gateway.
    pub fn recent_open_connections(&self, n: usize) -> (Vec<Cow<'_, Connection>>, usize) {
        let mut flows: Vec<&Flow> = self
            .tcp
            .values()
            .filter(|f| match f {
                Flow::Full(..) => true,
                Flow::HalfOpen(h, _) => h.id.is_some(),
            })
            .collect();
        let total = flows.len();
        if total > n {
            flows.select_nth_unstable_by_key(n, |f| std::cmp::Reverse(f.last_seen()));
            flows.truncate(n);
        }
        (flows.into_iter().filter_map(|f| self.listed(f)).collect(), total)
    }

    fn listed<'a>(&'a self, f: &'a Flow) -> Option<Cow<'a, Connection>> {
        match f {
            Flow::Full(c, _) => Some(Cow::Borrowed(&**c)),
            Flow::HalfOpen(h, _) => h.id.map(|id| Cow::Owned(h.into_connection(id, &self.cfg))),
        }
    }

    pub fn open_udp_flows(&self) -> impl Iterator<Item = &UdpFlow> {
        self.udp.values()
    }
}
