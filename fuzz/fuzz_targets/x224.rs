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
                let _ = x224::protocol_names(n.requested_protocols);
                let _ = x224::request_flag_names(n.flags);
            }
        }
        if let x224::Tpdu::ConnectionConfirm(cc) = &t {
            match cc.negotiation {
                Some(x224::Negotiation::Failure { code }) => {
                    let _ = x224::failure_name(code);
                }
                Some(x224::Negotiation::Response {
                    selected_protocol,
                    flags,
                    ..
                }) => {
                    let _ = x224::selected_name(selected_protocol);
                    let _ = x224::selects_tls(selected_protocol);
                    let _ = x224::response_flag_names(flags);
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
