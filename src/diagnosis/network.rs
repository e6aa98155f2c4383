//! TCP-level findings: the connection never opened (refused, unanswered), and the
//! quality of the path (latency, spikes, retransmissions, zero windows, MTU black holes).

use super::catalog::ClientError;
use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::config::Config;
use crate::flow::reassembly::seq_diff;
use crate::flow::tcp::BIG_SEGMENT;
use crate::flow::Side;

/// The RD Gateway's HTTPS port.
pub const GATEWAY_PORT: u16 = 443;

/// SYN answered by RST, or never answered. Returns true when the connection never opened.
pub fn never_opened(ev: &Evidence<'_>, f: &mut Findings) -> bool {
    let t = &ev.c.tcp;
    let Some(syn) = t.syn else { return false };
    if t.synack.is_some() {
        return false;
    }
    // Port 443 is the RD Gateway's: a refusal there is the first hop failing (inferred from
    // the port: RDP itself may listen on 443 too).
    let gateway = ev.c.server.port == GATEWAY_PORT;
    let code = |rdp: &'static str| if gateway { "gateway_unreachable" } else { rdp };
    if let Some(rst) = ev.closes.iter().find(|e| e.side == Side::Server && e.rst) {
        f.add_keyed(
            code("tcp_refused"),
            code("tcp_refused"),
            Severity::Error,
            Phase::Tcp,
            format!(
                "the server refused the TCP connection: SYN answered by RST after {:.1} ms",
                rst.at.ts.ms_since(syn.ts)
            ),
            "nothing listens on the port, or a firewall answers for it with a reset".into(),
            vec![syn.frame, rst.at.frame],
            gateway,
            Some(ClientError::ConnectFailed),
        );
        return true;
    }
    if t.syn_count >= 2 {
        let last = ev.last();
        f.add_keyed(
            code("tcp_unanswered"),
            code("tcp_unanswered"),
            Severity::Error,
            Phase::Tcp,
            format!(
                "no answer to {} SYNs over {:.1} s",
                t.syn_count,
                Evidence::secs(syn, last)
            ),
            "the SYN was dropped by a firewall or never reached a running server".into(),
            vec![syn.frame, last.frame],
            gateway,
            Some(ClientError::ConnectFailed),
        );
        return true;
    }
    false
}

pub fn quality(ev: &Evidence<'_>, cfg: &Config, failed: bool, f: &mut Findings) {
    let t = &ev.c.tcp;
    let median = t.median_rtt_ms();
    if let (Some(rtt), Some(syn), Some(ack)) = (t.handshake_rtt_ms(), t.last_syn, t.established) {
        let m = median.unwrap_or(rtt);
        if rtt > cfg.high_latency_ms || m > cfg.high_latency_ms {
            f.add(
                "high_latency",
                Severity::Warning,
                Phase::Tcp,
                format!(
                    "high latency: handshake RTT {rtt:.0} ms, median RTT {m:.0} ms (threshold {:.0} ms)",
                    cfg.high_latency_ms
                ),
                "each step of the RDP handshake costs at least one round trip".into(),
                vec![syn.frame, ack.frame],
                false,
                None,
            );
        }
    }
    if let Some(m) = median {
        // Far above the baseline, and beyond what a delayed ACK (up to 200 ms) explains.
        let floor = (m * 4.0).max(m + 300.0).max(cfg.high_latency_ms);
        let spike = t
            .rtt_samples
            .iter()
            .filter(|(_, r)| *r > floor)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((at, r)) = spike {
            f.add(
                "latency_spike",
                Severity::Warning,
                Phase::Tcp,
                format!("a round trip of {r:.0} ms against a median of {m:.0} ms"),
                "measured from a data segment to the acknowledgment that covered it".into(),
                vec![at.frame],
                false,
                None,
            );
        }
    }
    for side in [Side::Client, Side::Server] {
        let n = t.retransmissions(side);
        let pkts = t.packets.get(side.index()).copied().unwrap_or(0);
        if n >= 3 && u64::from(n) * 50 >= pkts {
            f.add(
                "retransmissions",
                Severity::Warning,
                Phase::Tcp,
                format!(
                    "{n} retransmitted segments from the {} ({} packets sent)",
                    side.name(),
                    pkts
                ),
                format!(
                    "the path from the {} to the {} loses packets",
                    side.name(),
                    side.other().name()
                ),
                t.retransmitted_frames.get(side.index()).cloned().unwrap_or_default(),
                false,
                None,
            );
        }
        let z = t.zero_windows.get(side.index()).copied().unwrap_or(0);
        if z > 0 {
            f.add(
                "zero_window",
                Severity::Warning,
                Phase::Tcp,
                format!("the {} advertised a zero window {z} times", side.name()),
                format!("the {} stopped reading its socket for a while", side.name()),
                t.zero_window_frames.get(side.index()).cloned().unwrap_or_default(),
                false,
                None,
            );
        }
    }
    pmtu(ev, failed, f);
}

/// Full-size segments sent again and again, never acknowledged, while the peer did
/// acknowledge the smaller ones before them.
fn pmtu(ev: &Evidence<'_>, failed: bool, f: &mut Findings) {
    let t = &ev.c.tcp;
    for side in [Side::Client, Side::Server] {
        let peer_ack = t.highest_ack.get(side.other().index()).copied().flatten();
        let stuck: Vec<_> = t
            .big_retransmissions
            .iter()
            .filter(|(s, seq, len, _)| *s == side && peer_ack.is_none_or(|a| seq_diff(seq.wrapping_add(*len), a) > 0))
            .collect();
        let Some((_, seq, len, first)) = stuck.first() else {
            continue;
        };
        let same = stuck.iter().filter(|(_, s, _, _)| s == seq).count();
        // Progress before the stuck segment: the peer acknowledged some of this side's data.
        let progressed =
            peer_ack.is_some_and(|a| t.payload_bytes.get(side.index()).copied().unwrap_or(0) > 0 && a != 0);
        if same < 2 || !progressed {
            continue;
        }
        let mss = |s: Side| {
            t.mss
                .get(s.index())
                .copied()
                .flatten()
                .map_or("none".to_string(), |m| m.to_string())
        };
        f.add(
            "pmtu_blackhole",
            if failed { Severity::Error } else { Severity::Warning },
            ev.phase,
            format!(
                "{}-byte segments from the {} were sent {} times and never acknowledged, while smaller ones got through",
                len,
                side.name(),
                same + 1
            ),
            format!(
                "a path-MTU black hole (inferred): MSS announced client {} / server {}; segments of {} B or more are lost on the path and no ICMP \"fragmentation needed\" is in the capture",
                mss(Side::Client),
                mss(Side::Server),
                BIG_SEGMENT
            ),
            stuck.iter().map(|(_, _, _, at)| at.frame).chain([first.frame]).take(6).collect(),
            true,
            if failed { Some(ClientError::Closed) } else { None },
        );
    }
}
