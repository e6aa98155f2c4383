//! Linking a Server Redirection to the connection that follows it: a connection broker sends
//! the client (Server Redirection PDU, read inside TLS) to the host of its session, and the
//! client opens a new connection there at once (or to the same address with the broker's
//! routing token when no target address is given).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::record::ConnectionRecord;
use crate::ts::Ts;

/// How soon after the redirection the follow-up connection starts.
pub const REDIRECT_WINDOW_SECS: i64 = 60;
/// Redirections waiting for their follow-up, at most.
const MAX_PENDING: usize = 4096;

/// (client address, target address) -> (redirected connection, when it was redirected).
#[derive(Default)]
pub struct Redirects {
    pending: HashMap<(IpAddr, IpAddr), (u64, Ts)>,
}

impl Redirects {
    /// Records as they go out (a follow-up after its redirection): set `redirected_from` on a follow-up, remember a redirection.
    pub fn link(&mut self, r: &mut ConnectionRecord) {
        let key = (r.client.ip, r.server.ip);
        if let Some((id, at)) = self.pending.get(&key).copied() {
            let dt = r.start.0.saturating_sub(at.0);
            if id != r.id && (0..=REDIRECT_WINDOW_SECS * 1_000_000_000).contains(&dt) {
                r.redirected_from = Some(id);
                self.pending.remove(&key);
            }
        }
        let Some(red) = r.session.as_ref().and_then(|s| s.redirect.as_ref()) else {
            return;
        };
        // The target as an address; without one the client returns to the same one.
        let target = match red.target.as_deref() {
            Some(t) => match t.trim().parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => return,
            },
            None => r.server.ip,
        };
        if self.pending.len() >= MAX_PENDING {
            let horizon = Ts(r.start.0.saturating_sub(REDIRECT_WINDOW_SECS * 1_000_000_000));
            self.pending.retain(|_, (_, at)| *at >= horizon);
            if self.pending.len() >= MAX_PENDING {
                self.pending.clear();
            }
        }
        self.pending.insert((r.client.ip, target), (r.id, red.at));
    }
}
