//! TPKT framing, X.224 TPDUs and RDP negotiation: the input is a byte stream cut into TPKT
//! PDUs as the stream decoder does it, and each payload is parsed as an X.224 TPDU; the
//! whole input is also parsed as one bare TPDU.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{tpkt, x224};

fn tpdu(payload: &[u8]) {
    if let Ok(t) = x224::parse(payload) {
        let _ = format!("{t:?}");
        if let x224::Tpdu::ConnectionRequest(cr) = &t {
            if let Some(n) = cr.neg_req {
                let _ = n.requested_protocols.names();
                let _ = n.flags.names();
            }
        }
        if let x224::Tpdu::ConnectionConfirm(cc) = &t {
            match cc.negotiation {
                Some(x224::Negotiation::Failure { code }) => {
                    let _ = code.name();
                }
                Some(x224::Negotiation::Response {
                    selected_protocol,
                    flags,
                    ..
                }) => {
                    let _ = selected_protocol.name();
                    let _ = selected_protocol.selects_tls();
                    let _ = flags.names();
                }
                None => {}
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    tpdu(data);
    let mut rest = data;
    while !rest.is_empty() {
        let _ = tpkt::plausible_start(rest);
        let len = tpkt::pdu_len(rest);
        match tpkt::split(rest) {
            Ok((payload, n)) => {
                assert!(n >= 4 && n <= rest.len(), "TPKT split consumed {n} of {}", rest.len());
                assert_eq!(len, Ok(n));
                tpdu(payload);
                rest = &rest[n..];
            }
            Err(_) => rest = &rest[1..],
        }
    }
});
