//! The decoders of what travels inside TLS (CredSSP, SPNEGO, NTLM, Kerberos, RDP PDUs),
//! checked on real decrypted bytes against tshark's own dissection, field by field.
//!
//! The bytes come from tshark at test time (`-x` prints each record's "Decrypted TLS"
//! plaintext): the Windows captures of `../shared/corpus/keyed/` carry their TLS secrets in
//! a pcapng DSB and may not be copied into the repository; our lab captures decrypt with
//! their `.keys` files. Each direction's plaintext is concatenated into one stream and cut
//! with our own framers, so the framers are tested too. Without tshark or the shared folder
//! the test prints why and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use rdpscope::proto::credssp::{self, EarlyUserAuthResult};
use rdpscope::proto::kerberos::{self, KrbMessage};
use rdpscope::proto::ntlm::NtlmMessage;
use rdpscope::proto::rdp::share::{DataPdu, SessionInfo, SharePdu};
use rdpscope::proto::rdp::{self, ChannelContent, Context, Framing, RdpPdu};
use rdpscope::proto::spnego::{self, AuthMessage};
use rdpscope::proto::{errinfo, ntstatus, ParseError};

mod common;

fn root() -> PathBuf {
    common::root()
}

/// A keyed Windows capture and tshark, or a SKIPPED line (a failure under CI).
fn keyed(test: &str, name: &str) -> Option<PathBuf> {
    let dir = common::keyed_corpus(test)?;
    common::tshark(test).then(|| dir.join(name))
}

fn tshark(file: &Path, keys: Option<&Path>, args: &[&str]) -> String {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(file).args(["-d", "tcp.port==3389,tls"]);
    if let Some(k) = keys {
        c.arg("-o").arg(format!("tls.keylog_file:{}", k.display()));
    }
    let out = c.args(args).output().expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The decrypted application data of each TLS connection on port 3389, as
/// `(client stream, server stream)`, from tshark's "follow tls raw" (one hex line per
/// chunk; the server's lines are indented with a tab).
fn plaintext(file: &Path, keys: Option<&Path>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for stream in 0..8 {
        let text = tshark(file, keys, &["-q", "-z", &format!("follow,tls,raw,{stream}")]);
        let mut client_first = true;
        let (mut c, mut s) = (Vec::new(), Vec::new());
        for line in text.lines() {
            if let Some(node) = line.strip_prefix("Node 0: ") {
                client_first = !node.ends_with(":3389");
                continue;
            }
            let (server, hex) = match line.strip_prefix('\t') {
                Some(h) => (client_first, h),
                None => (!client_first, line),
            };
            if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"));
            if server {
                s.extend(bytes)
            } else {
                c.extend(bytes)
            }
        }
        if c.is_empty() && s.is_empty() {
            break;
        }
        out.push((c, s));
    }
    out
}

/// Both directions of every connection, decoded and put end to end.
fn decode_all(file: &Path, keys: Option<&Path>) -> (Side, Side) {
    let (mut client, mut server) = (Side::default(), Side::default());
    for (c, s) in plaintext(file, keys) {
        client.append(decode_side(&c));
        server.append(decode_side(&s));
    }
    (client, server)
}

/// tshark field values per displayed packet, in order (`-E occurrence=a`, comma-separated).
fn fields(file: &Path, keys: Option<&Path>, filter: &str, names: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"];
    for n in names {
        args.push("-e");
        args.push(n);
    }
    tshark(file, keys, &args)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// What one direction's stream held, decoded.
#[derive(Default)]
struct Side {
    ts_requests: Vec<(u32, Option<u32>)>,
    auth: Vec<AuthMessage>,
    early_auth: Option<EarlyUserAuthResult>,
    pdus: Vec<RdpPdu>,
    fast_path: usize,
}

impl Side {
    fn append(&mut self, o: Side) {
        self.ts_requests.extend(o.ts_requests);
        self.auth.extend(o.auth);
        self.early_auth = self.early_auth.or(o.early_auth);
        self.pdus.extend(o.pdus);
        self.fast_path += o.fast_path;
    }
}

fn decode_side(stream: &[u8]) -> Side {
    let mut s = Side::default();
    let mut rest = stream;
    // CredSSP first: DER TSRequests, cut by their own length.
    while rest.first() == Some(&0x30) {
        let len = credssp::ts_request_len(rest).expect("TSRequest length");
        let req = credssp::parse_ts_request(&rest[..len]).expect("TSRequest decodes");
        assert_eq!(credssp::ts_request_len(&rest[..1]), Err(ParseError::Incomplete));
        for t in &req.nego_tokens {
            if let Some(m) = spnego::parse_nego_token(t).expect("negoToken decodes").message {
                s.auth.push(m);
            }
        }
        s.ts_requests.push((req.version, req.error_code));
        rest = &rest[len..];
    }
    // HYBRID_EX: the server's four-byte Early User Authorization Result before any TPKT.
    if rest.len() >= 4 && rest[0] != 0x03 {
        let (r, n) = credssp::parse_early_user_auth_result(rest).expect("early auth result");
        s.early_auth = Some(r);
        rest = &rest[n..];
    }
    let ctx = Context::default();
    while !rest.is_empty() {
        let (framing, len) = rdp::next_pdu(rest).expect("PDU framing");
        let pdu = rest.get(..len).expect("whole PDU in the capture");
        match framing {
            Framing::Tpkt => s
                .pdus
                .push(rdp::decode_tpkt(pdu, &ctx).unwrap_or_else(|e| panic!("TPKT {pdu:02x?}: {e}"))),
            Framing::FastPath => s.fast_path += 1,
        }
        rest = &rest[len..];
    }
    s
}

fn data_pdus(side: &Side) -> Vec<(u8, &DataPdu)> {
    side.pdus
        .iter()
        .filter_map(|p| match p {
            RdpPdu::SendData {
                content: ChannelContent::Share(SharePdu::Data { pdu_type2, data, .. }),
                ..
            } => Some((*pdu_type2, data)),
            _ => None,
        })
        .collect()
}

/// tshark prints signed 32-bit integers in decimal.
fn as_u32(s: &str) -> u32 {
    s.parse::<i64>().map(|v| v as u32).expect("integer field")
}

fn ntlm_auth(side: &Side) -> Vec<&rdpscope::proto::ntlm::Authenticate> {
    side.auth
        .iter()
        .filter_map(|m| match m {
            AuthMessage::Ntlm(NtlmMessage::Authenticate(a)) => Some(a),
            _ => None,
        })
        .collect()
}

fn check_credssp_and_ntlm(file: &Path, keys: Option<&Path>, client: &Side, server: &Side) {
    // TSRequest versions and error codes, in order, per direction.
    for (side, filter) in [
        (client, "credssp && tcp.dstport==3389"),
        (server, "credssp && tcp.srcport==3389"),
    ] {
        let t = fields(file, keys, filter, &["credssp.version", "credssp.errorCode"]);
        let want: Vec<(u32, Option<u32>)> = t
            .iter()
            .flat_map(|row| {
                let versions: Vec<&str> = row[0].split(',').collect();
                versions
                    .iter()
                    .map(|v| (as_u32(v), row.get(1).filter(|e| !e.is_empty()).map(|e| as_u32(e))))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(side.ts_requests, want, "{}: TSRequests ({filter})", file.display());
    }
    // NTLM AUTHENTICATE names.
    let t = fields(
        file,
        keys,
        "ntlmssp.messagetype == 3",
        &["ntlmssp.auth.username", "ntlmssp.auth.domain", "ntlmssp.auth.hostname"],
    );
    let mine = ntlm_auth(client);
    assert_eq!(mine.len(), t.len(), "{}: AUTHENTICATE count", file.display());
    for (a, row) in mine.iter().zip(&t) {
        let norm = |s: &str| if s == "NULL" { String::new() } else { s.to_string() };
        assert_eq!(
            (a.user.clone(), a.domain.clone(), a.workstation.clone()),
            (norm(&row[0]), norm(&row[1]), norm(&row[2]))
        );
        assert!(a.nt_response_len > 24, "NTLMv2 expected");
    }
    // Negotiate flags of every NTLM message, client and server in capture order per side.
    let t = fields(
        file,
        keys,
        "ntlmssp.negotiateflags && tcp.dstport==3389",
        &["ntlmssp.negotiateflags"],
    );
    let mine: Vec<u32> = client
        .auth
        .iter()
        .filter_map(|m| match m {
            AuthMessage::Ntlm(NtlmMessage::Negotiate(n)) => Some(n.flags.0),
            AuthMessage::Ntlm(NtlmMessage::Authenticate(a)) => Some(a.flags.0),
            _ => None,
        })
        .collect();
    let want: Vec<u32> = t
        .iter()
        .map(|r| u32::from_str_radix(r[0].trim_start_matches("0x"), 16).expect("hex flags"))
        .collect();
    assert_eq!(mine, want, "{}: client NTLM flags", file.display());
}

/// Kerberos on TCP 88: every record decodes and agrees with tshark's msg-type, error-code,
/// realm and principal names.
fn check_port_88(file: &Path) -> Vec<KrbMessage> {
    let t = fields(
        file,
        None,
        "kerberos && tcp.port==88",
        &[
            "tcp.payload",
            "kerberos.msg_type",
            "kerberos.error_code",
            "kerberos.realm",
            "kerberos.SNameString",
            "kerberos.CNameString",
        ],
    );
    assert!(!t.is_empty(), "{}: no Kerberos on port 88", file.display());
    let mut out = Vec::new();
    for row in &t {
        let bytes: Vec<u8> = (0..row[0].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&row[0][i..i + 2], 16).expect("hex"))
            .collect();
        let (m, used) = kerberos::parse_tcp_record(&bytes).expect("Kerberos record decodes");
        assert_eq!(used, bytes.len());
        let msg_type = row[1].split(',').next().expect("msg-type");
        let code = match &m {
            KrbMessage::AsReq(_) => "10",
            KrbMessage::AsRep(_) => "11",
            KrbMessage::TgsReq(_) => "12",
            KrbMessage::TgsRep(_) => "13",
            KrbMessage::Error(_) => "30",
            _ => "other",
        };
        assert_eq!(code, msg_type, "{}: msg-type", file.display());
        let snames = &row[4];
        let in_list = |list: &str, v: &str| list.split(',').any(|x| x == v);
        match &m {
            KrbMessage::Error(e) => {
                assert_eq!(e.error_code.to_string(), row[2]);
                assert!(in_list(&row[3], &e.realm));
                assert!(snames.contains(&e.sname.replace('/', ",")));
            }
            KrbMessage::AsReq(r) | KrbMessage::TgsReq(r) => {
                assert!(in_list(&row[3], &r.realm));
                assert!(snames.contains(&r.sname.clone().expect("sname").replace('/', ",")));
                if let Some(c) = &r.cname {
                    assert_eq!(c.replace('/', ","), row[5]);
                }
            }
            KrbMessage::AsRep(r) | KrbMessage::TgsRep(r) => {
                assert!(in_list(&row[3], &r.ticket_realm));
                assert!(snames.contains(&r.ticket_sname.replace('/', ",")));
                assert_eq!(r.cname.replace('/', ","), row[5]);
            }
            _ => {}
        }
        out.push(m);
    }
    out
}

#[test]
fn windows_ntlm_rejected() {
    let Some(file) = keyed(
        "windows_ntlm_rejected",
        "awakecoding-wireshark-rdp__rdp-nla-ntlm-rejected2.pcapng",
    ) else {
        return;
    };
    let (client, server) = decode_all(&file, None);
    check_credssp_and_ntlm(&file, None, &client, &server);
    // The server's last TSRequest carries the refusal: Protected Users may not use NTLM.
    let code = server.ts_requests.last().and_then(|r| r.1).expect("errorCode");
    assert_eq!(ntstatus::name(code), Some("STATUS_ACCOUNT_RESTRICTION"));
    assert_eq!(ntlm_auth(&client)[0].user, "ProtectedUser@ad.it-help.ninja");
    // The CHALLENGE names the server.
    let t = fields(
        &file,
        None,
        "ntlmssp.messagetype == 2",
        &[
            "ntlmssp.challenge.target_name",
            "ntlmssp.challenge.target_info.dns_computer_name",
        ],
    );
    let ch = server
        .auth
        .iter()
        .find_map(|m| match m {
            AuthMessage::Ntlm(NtlmMessage::Challenge(c)) => Some(c),
            _ => None,
        })
        .expect("CHALLENGE");
    assert_eq!(ch.target_name.as_deref(), Some(t[0][0].as_str()));
    assert_eq!(ch.dns_computer_name.as_deref(), Some(t[0][1].as_str()));
    assert!(client.pdus.is_empty() && server.pdus.is_empty());
    // Port 88: pre-authentication required, then failed.
    let errors: Vec<i32> = check_port_88(&file)
        .iter()
        .filter_map(|m| match m {
            KrbMessage::Error(e) => Some(e.error_code),
            _ => None,
        })
        .collect();
    assert_eq!(errors, vec![25, 24]);
    assert_eq!(kerberos::error_name(24), Some("KDC_ERR_PREAUTH_FAILED"));
}

#[test]
fn windows_kerberos_session() {
    let Some(file) = keyed(
        "windows_kerberos_session",
        "awakecoding-wireshark-rdp__rdp-nla-kerberos-auth1.pcapng",
    ) else {
        return;
    };
    let (client, server) = decode_all(&file, None);
    check_credssp_and_ntlm(&file, None, &client, &server);
    check_port_88(&file);
    // Kerberos inside SPNEGO: message types in order against tshark's, per side.
    for (side, dir) in [(&client, "tcp.dstport==3389"), (&server, "tcp.srcport==3389")] {
        let t = fields(
            &file,
            None,
            &format!("credssp && kerberos.msg_type && {dir}"),
            &["kerberos.msg_type"],
        );
        let want: Vec<String> = t
            .iter()
            .map(|r| r[0].split(',').next().unwrap_or("").to_string())
            .collect();
        let mine: Vec<String> = side
            .auth
            .iter()
            .filter_map(|m| match m {
                AuthMessage::Kerberos(k) => Some(match &k.message {
                    KrbMessage::TgtReq(_) => "16",
                    KrbMessage::TgtRep(_) => "17",
                    KrbMessage::ApReq(_) => "14",
                    KrbMessage::ApRep => "15",
                    KrbMessage::Error(_) => "30",
                    _ => "other",
                }),
                _ => None,
            })
            .map(str::to_string)
            .collect();
        assert_eq!(mine, want, "Kerberos in CredSSP ({dir})");
    }
    let ap = client
        .auth
        .iter()
        .find_map(|m| match m {
            AuthMessage::Kerberos(k) => match &k.message {
                KrbMessage::ApReq(a) => Some(a.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("AP-REQ");
    let t = fields(
        &file,
        None,
        "credssp && kerberos.msg_type == 14",
        &["kerberos.SNameString", "kerberos.realm"],
    );
    assert_eq!(ap.ticket_sname.replace('/', ","), t[0][0]);
    assert_eq!(ap.ticket_realm, t[0][1]);
    assert_eq!(ap.ticket_sname, "TERMSRV/IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(server.early_auth, Some(EarlyUserAuthResult::Success));

    // RDP: every TPKT PDU of both directions decoded (above); now the fields.
    let ci = client
        .pdus
        .iter()
        .find_map(|p| match p {
            RdpPdu::SendData {
                content: ChannelContent::ClientInfo(ci),
                ..
            } => Some(ci.clone()),
            _ => None,
        })
        .expect("Client Info");
    let t = fields(
        &file,
        None,
        "rdp.userName",
        &["rdp.userName", "rdp.domain", "rdp.codePage", "rdp.optionFlags"],
    );
    assert_eq!(ci.user_name, t[0][0]);
    assert_eq!(ci.domain, t[0][1]);
    assert_eq!(ci.code_page, t[0][2].parse::<u32>().expect("codePage"));
    assert_eq!(
        ci.flags,
        u32::from_str_radix(t[0][3].trim_start_matches("0x"), 16).expect("flags")
    );
    assert_eq!(ci.user_name, "Administrator@ad.it-help.ninja");
    assert!(!format!("{:?}", client.pdus).to_lowercase().contains("password"));

    let lic = server
        .pdus
        .iter()
        .find_map(|p| match p {
            RdpPdu::SendData {
                content: ChannelContent::License(l),
                ..
            } => Some(*l),
            _ => None,
        })
        .expect("licensing PDU");
    let t = fields(
        &file,
        None,
        "rdp.bMsgType",
        &["rdp.bMsgType", "rdp.errorCode", "rdp.stateTransition"],
    );
    let (code, state) = lic.error.expect("Error Alert");
    assert_eq!(format!("0x{:02x}", 0xffu8), t[0][0]);
    assert_eq!(
        (code.name(), state.name()),
        (
            rdpscope::proto::rdp::license::LicenseErrorCode::from_u32(t[0][1].parse().expect("errorCode")).name(),
            rdpscope::proto::rdp::license::StateTransition::from_u32(t[0][2].parse().expect("state")).name()
        )
    );
    assert_eq!(code.name(), "STATUS_VALID_CLIENT");

    // Demand Active / Confirm Active: capability counts and source descriptors.
    let t = fields(
        &file,
        None,
        "rdp.numberCapabilities",
        &["rdp.numberCapabilities", "rdp.sourceDescriptor"],
    );
    let mine: Vec<(String, String)> = client
        .pdus
        .iter()
        .chain(&server.pdus)
        .filter_map(|p| match p {
            RdpPdu::SendData {
                content:
                    ChannelContent::Share(
                        SharePdu::DemandActive {
                            number_capabilities,
                            source_descriptor,
                            ..
                        }
                        | SharePdu::ConfirmActive {
                            number_capabilities,
                            source_descriptor,
                            ..
                        },
                    ),
                ..
            } => Some((number_capabilities.to_string(), source_descriptor.clone())),
            _ => None,
        })
        .collect();
    let mut want: Vec<(String, String)> = t.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let mut mine_sorted = mine.clone();
    want.sort();
    mine_sorted.sort();
    assert_eq!(mine_sorted, want, "Demand/Confirm Active");

    // Data PDU types, in order, per side, against tshark's pduType2.
    for (side, dir) in [(&client, "tcp.dstport==3389"), (&server, "tcp.srcport==3389")] {
        let t = fields(&file, None, &format!("rdp.pduType2 && {dir}"), &["rdp.pduType2"]);
        let want: Vec<u8> = t
            .iter()
            .flat_map(|r| {
                r[0].split(',')
                    .map(|v| v.parse::<u8>().expect("pduType2"))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mine: Vec<u8> = data_pdus(side).iter().map(|(t, _)| *t).collect();
        assert_eq!(mine, want, "pduType2 ({dir})");
    }
    let server_data = data_pdus(&server);
    let error_info = server_data
        .iter()
        .find_map(|(_, d)| match d {
            DataPdu::SetErrorInfo(e) => Some(*e),
            _ => None,
        })
        .expect("Set Error Info");
    // tshark 4.0 names the PDU but not the code; the README of the corpus states 0xB.
    assert_eq!(
        errinfo::name(error_info),
        Some("ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER")
    );
    assert!(errinfo::category(error_info).is_some_and(|c| c.user_initiated()));
    let logons: Vec<&str> = server_data
        .iter()
        .filter_map(|(_, d)| match d {
            DataPdu::SaveSessionInfo(s) => Some(s.name()),
            _ => None,
        })
        .collect();
    assert!(!logons.is_empty());
    if let Some(SessionInfo::LogonLong { user_name, .. }) = server_data.iter().find_map(|(_, d)| match d {
        DataPdu::SaveSessionInfo(s @ SessionInfo::LogonLong { .. }) => Some(s),
        _ => None,
    }) {
        assert_eq!(user_name, "Administrator");
    }
    // MCS: joins answered, and the Disconnect Provider Ultimatum at the end.
    let joins = client
        .pdus
        .iter()
        .filter(|p| matches!(p, RdpPdu::ChannelJoinRequest { .. }))
        .count();
    let t = fields(&file, None, "t125 && tcp.dstport==3389", &["_ws.col.Info"]);
    assert_eq!(joins, t.iter().filter(|r| r[0].contains("channelJoinRequest")).count());
    let confirms = server
        .pdus
        .iter()
        .filter(|p| matches!(p, RdpPdu::ChannelJoinConfirm { result: 0, .. }))
        .count();
    assert_eq!(confirms, joins);
    assert!(matches!(
        server.pdus.last(),
        Some(RdpPdu::DisconnectProviderUltimatum { reason }) if reason.code() == 3
    ));
    assert!(client.fast_path > 0 && server.fast_path > 0);
    // MCS Connect Initial / Response went through the existing cleartext decoder.
    assert!(client
        .pdus
        .iter()
        .any(|p| matches!(p, RdpPdu::ConnectInitial(ci) if ci.client_core.is_some())));
    assert!(server
        .pdus
        .iter()
        .any(|p| matches!(p, RdpPdu::ConnectResponse(cr) if cr.result == 0)));
}

/// Our lab captures (FreeRDP client, raw NTLM in negoTokens) decrypted with their key logs.
#[test]
fn lab_nla_failures() {
    if !common::tshark("lab_nla_failures") {
        return;
    }
    for (name, user) in [
        ("nla-wrong-password", "labuser"),
        ("nla-unknown-user", "nosuchuser"),
        ("success-nla", "labuser"),
    ] {
        let file = root().join("fixtures/lab").join(format!("{name}.pcap"));
        let keys = root().join("fixtures/lab").join(format!("{name}.keys"));
        let (client, server) = decode_all(&file, Some(&keys));
        check_credssp_and_ntlm(&file, Some(&keys), &client, &server);
        assert!(ntlm_auth(&client).iter().all(|a| a.user == user), "{name}");
        assert!(!ntlm_auth(&client).is_empty(), "{name}");
    }
}
