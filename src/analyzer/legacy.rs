//! The legacy RD Gateway transport (MS-TSGU over two HTTP channels): the analyzer pairs an
//! IN channel with the OUT channel of the same RDG-Connection-Id, so that one connection reads
//! the whole tunnel and carries the inner RDP connection.

use super::{Analyzer, Flow, MAX_LEGACY_STEPS};
use crate::conn::gateway_facts::LegacyChannel;
use crate::conn::Connection;
use crate::flow::tcp::At;
use crate::flow::FlowKey;

impl Analyzer {
    /// A legacy RD Gateway transport leg: an OUT channel is registered under its
    /// RDG-Connection-Id; an IN channel's client packets go to that OUT channel, which then
    /// reads the whole MS-TSGU conversation and carries the inner RDP connection (or back to
    /// the IN channel when no OUT channel of that id is open).
    pub(super) fn route_legacy(&mut self, key: FlowKey) {
        let Some(Flow::Full(c, _)) = self.tcp.get_mut(&key) else {
            return;
        };
        let Some((ch, cid)) = c.legacy_channel() else { return };
        match ch {
            LegacyChannel::Out => {
                if !self.legacy_out.contains_key(cid) {
                    let v = (key, c.id);
                    self.legacy_out.insert(cid.to_string(), v);
                }
            }
            LegacyChannel::In => {
                if !c.has_legacy_in() {
                    return;
                }
                let cid = cid.to_string();
                let in_id = c.id;
                let bytes = c.take_legacy_in();
                let partner = self.hand_to_legacy_out(&cid, in_id, bytes);
                if let Some(Flow::Full(c, acct)) = self.tcp.get_mut(&key) {
                    match partner {
                        Ok(out_id) => c.set_legacy_partner(out_id),
                        Err(bytes) => {
                            for (at, d) in &bytes {
                                c.legacy_client_bytes(*at, d, &self.cfg, Some(&self.keys));
                            }
                        }
                    }
                    let now = super::Acct::of(c, &self.cfg);
                    let before = std::mem::replace(acct, now);
                    self.account(before.buffered, now.buffered);
                }
            }
        }
    }

    /// Hands a legacy IN channel's client bytes to the open OUT channel of `cid`: its
    /// connection id, or the bytes back when there is none.
    pub(super) fn hand_to_legacy_out(
        &mut self,
        cid: &str,
        in_id: u64,
        bytes: Vec<(At, Vec<u8>)>,
    ) -> Result<u64, Vec<(At, Vec<u8>)>> {
        let Some((out_key, out_id)) = self.legacy_out.get(cid).copied() else {
            return Err(bytes);
        };
        let Some(Flow::Full(out, acct)) = self
            .tcp
            .get_mut(&out_key)
            .filter(|f| matches!(f, Flow::Full(o, _) if o.id == out_id))
        else {
            return Err(bytes);
        };
        for (at, d) in &bytes {
            out.legacy_client_bytes(*at, d, &self.cfg, Some(&self.keys));
        }
        out.set_legacy_partner(in_id);
        let now = super::Acct::of(out, &self.cfg);
        let before = std::mem::replace(acct, now);
        self.account(before.buffered, now.buffered);
        Ok(out_id)
    }

    /// A legacy channel ends: an OUT channel is unregistered (its tunnel steps kept for an IN
    /// channel that ends later), an IN channel hands over what its OUT channel has not read
    /// yet and is judged by that tunnel.
    pub(super) fn legacy_retired(&mut self, c: &mut Connection) {
        if let Some((ch, cid)) = c.legacy_channel().map(|(ch, cid)| (ch, cid.to_string())) {
            match ch {
                LegacyChannel::Out => {
                    if self.legacy_out.get(&cid).is_some_and(|(_, id)| *id == c.id) {
                        self.legacy_out.remove(&cid);
                    }
                    if let (Some(_), Some(steps)) = (c.legacy_partner(), c.tunnel_steps()) {
                        if self.legacy_steps.len() >= MAX_LEGACY_STEPS {
                            self.legacy_steps.clear();
                        }
                        self.legacy_steps.insert(cid.clone(), steps);
                    }
                }
                LegacyChannel::In if c.has_legacy_in() => {
                    let bytes = c.take_legacy_in();
                    match self.hand_to_legacy_out(&cid, c.id, bytes) {
                        Ok(out_id) => c.set_legacy_partner(out_id),
                        Err(bytes) => {
                            for (at, d) in &bytes {
                                c.legacy_client_bytes(*at, d, &self.cfg, Some(&self.keys));
                            }
                        }
                    }
                }
                LegacyChannel::In => {}
            }
            // An IN channel whose packets its OUT channel read is judged by that tunnel.
            if ch == LegacyChannel::In && c.legacy_partner().is_some() {
                let open = self.legacy_out.get(&cid).and_then(|(k, id)| match self.tcp.get(k) {
                    Some(Flow::Full(o, _)) if o.id == *id => o.tunnel_steps(),
                    _ => None,
                });
                if let Some(steps) = open.or_else(|| self.legacy_steps.remove(&cid)) {
                    c.adopt_steps(steps);
                }
            }
        }
    }
}
