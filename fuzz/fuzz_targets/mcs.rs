//! Cleartext MCS of standard RDP security: the input as an MCS Connect Initial (with its GCC
//! client data), as a Connect Response (with the server security data and certificate), and
//! as a domain PDU.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::proto::cert;
use rdpscope::proto::mcs::domain as mcs_domain;
use rdpscope::proto::mcs::{self, ServerCertificate};

fuzz_target!(|data: &[u8]| {
    if let Ok(ci) = mcs::parse_connect_initial(data) {
        let _ = serde_json::to_string(&ci);
    }
    if let Ok(cr) = mcs::parse_connect_response(data) {
        let _ = serde_json::to_string(&cr);
        if let Some(s) = &cr.server_security {
            let _ = mcs::encryption_method_name(s.encryption_method);
            let _ = mcs::encryption_level_name(s.encryption_level);
            if let Some(ServerCertificate::X509Chain { leaf_der, .. }) = &s.certificate {
                let _ = cert::summarize(leaf_der);
            }
        }
    }
    if let Ok(mcs_domain::DomainPdu::DisconnectProviderUltimatum { reason }) = mcs_domain::parse(data) {
        let _ = mcs_domain::ultimatum_reason_name(reason);
    }
});
