//! Community ID v1 (corelight/community-id-spec): the flow hash Zeek, Suricata and Arkime
//! write for the same connection, so a record can be joined with theirs. For transports
//! with ports (TCP, UDP, SCTP); the seed is 0 unless told otherwise.

use std::net::IpAddr;

use base64::Engine;
use sha1::{Digest, Sha1};

use super::Endpoint;

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

/// `1:` + base64(SHA-1(seed, lower endpoint address, other address, proto, 0, their ports)),
/// the endpoints ordered address first, then port (spec "Community ID v1 algorithm").
pub fn community_id(seed: u16, a: Endpoint, b: Endpoint, proto: u8) -> String {
    let (lo, hi) = if (a.ip, a.port) <= (b.ip, b.port) {
        (a, b)
    } else {
        (b, a)
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    // Two addresses of different families cannot share a flow; the spec orders by bytes.
    for ip in [lo.ip, hi.ip] {
        match ip {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => h.update(v6.octets()),
        }
    }
    h.update([proto, 0]);
    h.update(lo.port.to_be_bytes());
    h.update(hi.port.to_be_bytes());
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(h.finalize()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: s.parse().unwrap(),
            port,
        }
    }

    /// The reference implementation's baseline (community-id-spec baseline/baseline_deflt.json
    /// and baseline_seed1.json): every flow with ports, in both directions.
    const VECTORS: &[(u8, &str, u16, &str, u16, &str, &str)] = &[
        (
            6,
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            63943,
            "2607:f8b0:400c:c03::1a",
            25,
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
        ),
        (
            132,
            "192.168.170.8",
            7,
            "192.168.170.56",
            7,
            "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=",
        ),
        (
            6,
            "128.232.110.120",
            34855,
            "66.35.250.204",
            80,
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        ),
        (
            17,
            "192.168.1.52",
            54585,
            "8.8.8.8",
            53,
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=",
        ),
    ];

    #[test]
    fn the_reference_baseline_is_reproduced_both_ways_and_seeded() {
        for (proto, sa, sp, da, dp, seed0, seed1) in VECTORS {
            let (s, d) = (ep(sa, *sp), ep(da, *dp));
            assert_eq!(community_id(0, s, d, *proto), *seed0, "{sa} {da}");
            assert_eq!(community_id(0, d, s, *proto), *seed0, "{da} {sa}");
            assert_eq!(community_id(1, s, d, *proto), *seed1, "{sa} {da} seed 1");
        }
    }

    #[test]
    fn same_address_is_ordered_by_port() {
        let a = ep("10.0.0.1", 50000);
        let b = ep("10.0.0.1", 3389);
        assert_eq!(community_id(0, a, b, TCP), community_id(0, b, a, TCP));
        assert_ne!(community_id(0, a, b, TCP), community_id(0, a, b, UDP));
    }
}
