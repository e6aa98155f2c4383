//! Kerberos on port 88 (cleartext), watched for what it says about the RDP connections that
//! follow: a client whose KDC answered KDC_ERR_PREAUTH_FAILED (a wrong password) or
//! KDC_ERR_C_PRINCIPAL_UNKNOWN just before it connects, and then falls back to NTLM. Only the
//! KDC's errors are kept, per client address, bounded; a message that does not fit in one
//! segment or datagram is skipped (KRB-ERRORs are small).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::conn::inside_facts::{KrbErrorSeen, KRB_WINDOW_SECS};
use crate::flow::tcp::At;
use crate::flow::Endpoint;
use crate::proto::kerberos::{self, KrbMessage};
use crate::ts::Ts;

/// The Kerberos port (RFC 4120 §7.2.1, TCP and UDP).
pub const KERBEROS_PORT: u16 = 88;
/// Errors kept per client address.
const PER_CLIENT: usize = 16;
/// Client addresses tracked at once; beyond it the table is emptied of old entries.
const MAX_CLIENTS: usize = 10_000;

#[derive(Debug, Default)]
pub struct KdcWatch {
    by_client: HashMap<IpAddr, VecDeque<KrbErrorSeen>>,
}

impl KdcWatch {
    /// A segment or datagram to or from port 88.
    pub fn on_packet(&mut self, at: At, src: Endpoint, dst: Endpoint, payload: &[u8], tcp: bool) {
        if src.port != KERBEROS_PORT || payload.is_empty() {
            return;
        }
        let msg = if tcp {
            kerberos::parse_tcp_record(payload).map(|(m, _)| m)
        } else {
            kerberos::parse_message(payload)
        };
        let Ok(KrbMessage::Error(e)) = msg else { return };
        if self.by_client.len() >= MAX_CLIENTS && !self.by_client.contains_key(&dst.ip) {
            let horizon = Ts(at.ts.0.saturating_sub(KRB_WINDOW_SECS * 1_000_000_000));
            self.by_client
                .retain(|_, v| v.back().is_some_and(|e| e.at.ts >= horizon));
            if self.by_client.len() >= MAX_CLIENTS {
                self.by_client.clear();
            }
        }
        let v = self.by_client.entry(dst.ip).or_default();
        if v.len() >= PER_CLIENT {
            v.pop_front();
        }
        v.push_back(KrbErrorSeen {
            at,
            kdc: src,
            code: e.error_code,
            user: e.cname.clone(),
            realm: e.crealm.clone().or_else(|| Some(e.realm.clone())),
            service: Some(e.sname.clone()).filter(|s| !s.is_empty()),
        });
    }

    /// The KDC's errors to `client` from [`KRB_WINDOW_SECS`] before `start` up to `end`.
    pub fn for_client(&self, client: IpAddr, start: Ts, end: Ts) -> Vec<KrbErrorSeen> {
        let from = Ts(start.0.saturating_sub(KRB_WINDOW_SECS * 1_000_000_000));
        self.by_client
            .get(&client)
            .map(|v| {
                v.iter()
                    .filter(|e| e.at.ts >= from && e.at.ts <= end)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        assert!(body.len() < 128);
        let mut v = vec![tag, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    fn int(n: u8) -> Vec<u8> {
        tlv(0x02, &[n])
    }

    fn gstr(s: &str) -> Vec<u8> {
        tlv(0x1b, s.as_bytes())
    }

    /// KRB-ERROR (RFC 4120 §5.9.1) with the fields kerberos-parser requires.
    fn krb_error(code: u8) -> Vec<u8> {
        let name = tlv(
            0x30,
            &[tlv(0xa0, &int(2)), tlv(0xa1, &tlv(0x30, &gstr("krbtgt")))].concat(),
        );
        let seq = tlv(
            0x30,
            &[
                tlv(0xa0, &int(5)),
                tlv(0xa1, &int(30)),
                tlv(0xa4, &tlv(0x18, b"20240506203124Z")),
                tlv(0xa5, &int(1)),
                tlv(0xa6, &int(code)),
                tlv(0xa9, &gstr("AD.EXAMPLE")),
                tlv(0xaa, &name),
            ]
            .concat(),
        );
        tlv(0x7e, &seq)
    }

    fn ep(ip: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: ip.parse().unwrap(),
            port,
        }
    }

    fn at(frame: u64, secs: i64) -> At {
        At {
            frame,
            ts: Ts::from_parts(secs, 0),
        }
    }

    #[test]
    fn errors_are_kept_per_client_bounded_and_found_in_the_window() {
        let mut w = KdcWatch::default();
        let kdc = ep("10.0.0.3", KERBEROS_PORT);
        let client = ep("10.0.0.131", 50000);
        let msg = krb_error(24);
        assert!(matches!(kerberos::parse_message(&msg), Ok(KrbMessage::Error(_))));
        // UDP as is; TCP with its 4-byte length.
        w.on_packet(at(1, 1000), kdc, client, &msg, false);
        let mut rec = (msg.len() as u32).to_be_bytes().to_vec();
        rec.extend_from_slice(&msg);
        w.on_packet(at(2, 1001), kdc, client, &rec, true);
        // The client's own request is not an error: nothing kept.
        w.on_packet(at(3, 1001), client, kdc, &msg, false);
        let found = w.for_client(client.ip, Ts::from_parts(1100, 0), Ts::from_parts(1200, 0));
        assert_eq!(
            found.iter().map(|e| (e.at.frame, e.code)).collect::<Vec<_>>(),
            [(1, 24), (2, 24)]
        );
        assert_eq!(found[0].realm.as_deref(), Some("AD.EXAMPLE"));
        // Out of the window before the connection: not evidence.
        assert!(w
            .for_client(
                client.ip,
                Ts::from_parts(1000 + KRB_WINDOW_SECS + 2, 0),
                Ts::from_parts(9999, 0)
            )
            .is_empty());
        // At most PER_CLIENT per client.
        for i in 0..40 {
            w.on_packet(at(10 + i, 1002), kdc, client, &msg, false);
        }
        assert_eq!(
            w.for_client(client.ip, Ts::from_parts(1002, 0), Ts::from_parts(1002, 0))
                .len(),
            PER_CLIENT
        );
        // Garbage on port 88 is ignored.
        w.on_packet(at(99, 1003), kdc, client, b"\x7e\xff\x00garbage", false);
    }

    #[test]
    fn the_client_table_stays_bounded() {
        let mut w = KdcWatch::default();
        let kdc = ep("10.0.0.3", KERBEROS_PORT);
        let msg = krb_error(6);
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            let c = Endpoint {
                ip: std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
                port: 50000,
            };
            w.on_packet(at(u64::from(i), 1000 + i64::from(i)), kdc, c, &msg, false);
        }
        assert!(w.by_client.len() <= MAX_CLIENTS);
    }
}
