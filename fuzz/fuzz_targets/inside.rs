//! What travels inside TLS: CredSSP TSRequests and their negoTokens (SPNEGO, NTLM,
//! Kerberos), Kerberos on port 88, and RDP PDUs (framer, TPKT decoder, share, Client Info,
//! licensing), with every name table the results lead to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::proto::rdp::{self, share, Context};
use rdpscope::proto::{credssp, errinfo, kerberos, ntlm, ntstatus, spnego};

fuzz_target!(|data: &[u8]| {
    if let Ok(len) = credssp::ts_request_len(data) {
        if let Some(req) = data.get(..len) {
            if let Ok(r) = credssp::parse_ts_request(req) {
                if let Some(c) = r.error_code {
                    let _ = (ntstatus::name(c), ntstatus::meaning(c));
                }
                for t in r.nego_tokens {
                    let _ = spnego::parse_nego_token(t);
                }
            }
        }
    }
    let _ = credssp::parse_early_user_auth_result(data);
    let _ = spnego::parse_nego_token(data);
    if let Ok(ntlm::NtlmMessage::Negotiate(n)) = ntlm::parse(data) {
        let _ = n.flags.names();
    }
    let _ = kerberos::parse_gss_token(data);
    if let Ok(kerberos::KrbMessage::Error(e)) = kerberos::parse_message(data) {
        let _ = kerberos::error_meaning(e.error_code);
    }
    let _ = kerberos::parse_tcp_record(data);
    let ctx = Context {
        io_channel: rdp::IO_CHANNEL,
        message_channel: Some(1007),
    };
    if let Ok((rdp::Framing::Tpkt, len)) = rdp::next_pdu(data) {
        if let Some(pdu) = data.get(..len) {
            if let Ok(rdp::RdpPdu::SendData {
                content:
                    rdp::ChannelContent::Share(share::SharePdu::Data {
                        data: share::DataPdu::SetErrorInfo(c),
                        ..
                    }),
                ..
            }) = rdp::decode_tpkt(pdu, &ctx)
            {
                let _ = (errinfo::name(c), errinfo::category(c));
            }
        }
    }
    let _ = rdp::decode_tpkt(data, &ctx);
    let _ = share::parse(data);
    let _ = share::parse_redirection(data);
    let _ = rdp::info::parse(data);
    let _ = rdp::license::parse(data);
});
