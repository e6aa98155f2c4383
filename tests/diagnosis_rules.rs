//! Diagnosis rules that no real or lab capture exercises yet, driven through the real
//! analyzer with synthetic conversations (built with etherparse). Each test says which
//! wire shape it stands for; the captured fixtures cover the other codes.

use etherparse::PacketBuilder;
use rdpscope::analyzer::Analyzer;
use rdpscope::config::Config;
use rdpscope::decode::LinkType;
use rdpscope::ts::Ts;
use serde_json::Value;

const C: [u8; 4] = [10, 0, 0, 2];
const S: [u8; 4] = [10, 0, 0, 1];
const CPORT: u16 = 50000;

/// A TCP conversation between C and S:3389 with correct sequence numbers.
struct Convo {
    frames: Vec<(Ts, Vec<u8>)>,
    cseq: u32,
    sseq: u32,
    t: i64,
}

#[derive(Clone, Copy)]
enum Flags {
    Data,
    Fin,
    Rst,
    ZeroWindow,
}

impl Convo {
    /// Starts at `start` (ns since the epoch) with a completed three-way handshake.
    fn new(start: i64) -> Convo {
        let mut c = Convo {
            frames: Vec::new(),
            cseq: 1000,
            sseq: 5000,
            t: start,
        };
        let syn = PacketBuilder::ipv4(C, S, 64).tcp(CPORT, 3389, c.cseq, 65535).syn();
        c.push(syn, &[]);
        let synack = PacketBuilder::ipv4(S, C, 64)
            .tcp(3389, CPORT, c.sseq, 65535)
            .syn()
            .ack(c.cseq + 1);
        c.push(synack, &[]);
        c.cseq += 1;
        c.sseq += 1;
        let ack = PacketBuilder::ipv4(C, S, 64)
            .tcp(CPORT, 3389, c.cseq, 65535)
            .ack(c.sseq);
        c.push(ack, &[]);
        c
    }

    fn push(&mut self, b: etherparse::PacketBuilderStep<etherparse::TcpHeader>, payload: &[u8]) {
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        self.t += 1_000_000;
        self.frames.push((Ts(self.t), out));
    }

    fn send(&mut self, from_client: bool, payload: &[u8], flags: Flags) -> &mut Self {
        let (src, dst, sp, dp, seq, ack) = if from_client {
            (C, S, CPORT, 3389, self.cseq, self.sseq)
        } else {
            (S, C, 3389, CPORT, self.sseq, self.cseq)
        };
        let window = if matches!(flags, Flags::ZeroWindow) { 0 } else { 65535 };
        let mut b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, seq, window).ack(ack);
        b = match flags {
            Flags::Fin => b.fin(),
            Flags::Rst => b.rst(),
            _ => b.psh(),
        };
        self.push(b, payload);
        let adv = payload.len() as u32 + u32::from(matches!(flags, Flags::Fin));
        if from_client {
            self.cseq += adv;
        } else {
            self.sseq += adv;
        }
        self
    }

    fn c(&mut self, p: &[u8]) -> &mut Self {
        self.send(true, p, Flags::Data)
    }

    fn s(&mut self, p: &[u8]) -> &mut Self {
        self.send(false, p, Flags::Data)
    }

    fn run(&self) -> Value {
        let cfg = Config::default();
        let mut a = Analyzer::new(cfg.clone(), 1);
        for (i, (ts, f)) in self.frames.iter().enumerate() {
            a.on_frame(i as u64 + 1, *ts, LinkType::RawIp, f, f.len() as u32);
        }
        let (finished, _) = a.finish();
        assert_eq!(finished.len(), 1);
        serde_json::to_value(rdpscope::emit::record(&finished[0], &cfg)).unwrap()
    }
}

fn tpkt(x224: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&((x224.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(x224);
    v
}

fn cr(requested: u32) -> Vec<u8> {
    let mut x = vec![0, 0xE0, 0, 0, 0, 0, 0];
    x.extend_from_slice(b"Cookie: mstshash=tester\r\n");
    x.extend_from_slice(&[1, 0, 8, 0]);
    x.extend_from_slice(&requested.to_le_bytes());
    x[0] = (x.len() - 1) as u8;
    tpkt(&x)
}

fn cc(selected: u32) -> Vec<u8> {
    let mut x = vec![14, 0xD0, 0, 0, 0x12, 0x34, 0, 2, 0x1f, 8, 0];
    x.extend_from_slice(&selected.to_le_bytes());
    tpkt(&x)
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 3, 3];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 0, (body.len() >> 8) as u8, body.len() as u8];
    v.extend_from_slice(body);
    record(22, &v)
}

fn client_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
    handshake(1, &b)
}

fn server_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[9; 32]);
    b.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    handshake(2, &b)
}

fn certificate(der: &[u8]) -> Vec<u8> {
    let n = der.len();
    let mut b = vec![0, ((n + 3) >> 8) as u8, (n + 3) as u8, 0, (n >> 8) as u8, n as u8];
    b[0] = ((n + 3) >> 16) as u8;
    b.extend_from_slice(der);
    handshake(11, &b)
}

fn codes(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const T2024: i64 = 1_700_000_000_000_000_000;

#[test]
fn other_fatal_alert_is_tls_alert() {
    // The client refuses the server's certificate chain in clear: fatal unknown_ca (48).
    let r = Convo::new(T2024)
        .c(&cr(1))
        .s(&cc(1))
        .c(&client_hello())
        .s(&server_hello())
        .c(&record(21, &[2, 48]))
        .send(true, &[], Flags::Fin)
        .run();
    assert_eq!(r["outcome"], "failed");
    assert_eq!(codes(&r)[0], ("tls_alert".into(), "error".into()));
    assert!(r["findings"][0]["summary"].as_str().unwrap().contains("unknown_ca"));
}

#[test]
fn certificate_before_its_validity_is_not_yet_valid() {
    // Packet time 2018-01-01, certificate valid from 2019-03-19; the client closes right
    // after the handshake.
    let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/office-win10-vm.der")).unwrap();
    let r = Convo::new(1_514_764_800_000_000_000)
        .c(&cr(1))
        .s(&cc(1))
        .c(&client_hello())
        .s(&[server_hello(), certificate(&der), handshake(14, &[])].concat())
        .c(&[handshake(16, &[0; 66]), record(20, &[1]), record(22, &[0; 40])].concat())
        .s(&[record(20, &[1]), record(22, &[0; 40])].concat())
        .send(true, &[], Flags::Fin)
        .run();
    let c = codes(&r);
    assert_eq!(c[0], ("cert_not_yet_valid".into(), "error".into()), "{c:?}");
    assert!(c.contains(&("cert_rejected_by_client".into(), "error".into())), "{c:?}");
    assert_eq!(r["tls"]["certificate"]["valid_at_capture"], false);
}

#[test]
fn early_user_authorization_denied() {
    // HYBRID_EX: TLS, 3 CredSSP records each way where the server's last one is the small
    // Early User Authorization Result, then the server closes.
    let mut c = Convo::new(T2024);
    c.c(&cr(0xb))
        .s(&cc(8))
        .c(&client_hello())
        .s(&[server_hello(), handshake(14, &[])].concat())
        .c(&[handshake(16, &[0; 66]), record(20, &[1]), record(22, &[0; 40])].concat())
        .s(&[record(20, &[1]), record(22, &[0; 40])].concat());
    for (cl, sv) in [(80, 280), (560, 90), (100, 37)] {
        c.c(&record(23, &vec![0; cl])).s(&record(23, &vec![0; sv]));
    }
    c.send(false, &[], Flags::Fin);
    let r = c.run();
    assert_eq!(codes(&r)[0].0, "early_auth_denied", "{:?}", codes(&r));
    assert_eq!(r["findings"][0]["inferred"], true);
    assert_eq!(r["client_error"]["code"], "0x904 / 0x7");
}

#[test]
fn client_reset_before_the_confirm() {
    let r = Convo::new(T2024).c(&cr(3)).send(true, &[], Flags::Rst).run();
    assert_eq!(codes(&r)[0], ("client_reset".into(), "error".into()));
    assert_eq!(r["phase_reached"], "x224");
}

#[test]
fn zero_window_is_a_warning() {
    let r = Convo::new(T2024).c(&cr(0)).send(false, &cc(0), Flags::ZeroWindow).run();
    assert!(
        codes(&r).contains(&("zero_window".into(), "warning".into())),
        "{:?}",
        codes(&r)
    );
    assert_eq!(r["tcp"]["zero_windows"]["server"], 1);
}

#[test]
fn client_fin_without_a_reason_is_client_closed() {
    let r = Convo::new(T2024)
        .c(&cr(1))
        .s(&cc(1))
        .c(&client_hello())
        .s(&server_hello())
        .send(true, &[], Flags::Fin)
        .run();
    assert_eq!(
        codes(&r)[0],
        ("client_closed".into(), "error".into()),
        "{:?}",
        codes(&r)
    );
    assert_eq!(r["phase_reached"], "tls");
}

// SOCKS shapes the lab (microsocks + xfreerdp, SOCKS5 only) does not produce.

#[test]
fn socks5_proxy_accepting_no_offered_method_is_proxy_auth_failed() {
    // The client offers GSSAPI only; the proxy answers 0xFF and closes.
    let r = Convo::new(T2024)
        .c(&[5, 1, 1])
        .s(&[5, 0xFF])
        .send(false, &[], Flags::Fin)
        .run();
    assert_eq!(r["outcome"], "failed");
    assert_eq!(codes(&r)[0], ("proxy_auth_failed".into(), "error".into()));
    assert!(r["findings"][0]["summary"].as_str().unwrap().contains("GSSAPI"));
    assert_eq!(r["proxy"]["method"], "no acceptable method");
    assert_eq!(r["proxy"]["granted"], false);
}

#[test]
fn socks4a_rejection_is_proxy_refused_and_names_the_host() {
    let mut req = vec![4, 1, 0x0d, 0x3d, 0, 0, 0, 1];
    req.extend_from_slice(b"bob\0rdp.corp.example\0");
    let r = Convo::new(T2024)
        .c(&req)
        .s(&[0, 91, 0, 0, 0, 0, 0, 0])
        .send(false, &[], Flags::Fin)
        .run();
    assert_eq!(codes(&r)[0], ("proxy_refused".into(), "error".into()));
    let summary = r["findings"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("SOCKS4") && summary.contains("rdp.corp.example:3389"),
        "{summary}"
    );
    assert_eq!(r["proxy"]["protocol"], "socks4a");
    assert_eq!(r["proxy"]["user"], "bob");
    assert_eq!(r["proxy"]["reply_code"], 91);
}

#[test]
fn proxy_closing_without_a_reply_is_proxy_refused() {
    let r = Convo::new(T2024)
        .c(&[5, 1, 0])
        .s(&[5, 0])
        .c(&[5, 1, 0, 1, 10, 0, 0, 9, 0x0d, 0x3d])
        .send(false, &[], Flags::Rst)
        .run();
    assert_eq!(codes(&r)[0], ("proxy_refused".into(), "error".into()));
    assert!(r["findings"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("closed the connection without answering the request to connect to 10.0.0.9:3389"));
}

#[test]
fn rdp_inside_a_granted_tunnel_is_judged_as_rdp() {
    // The proxy opens the tunnel; the RDP server behind it refuses the negotiation.
    let r = Convo::new(T2024)
        .c(&[5, 1, 0])
        .s(&[5, 0])
        .c(&[5, 1, 0, 1, 10, 0, 0, 9, 0x0d, 0x3d])
        .s(&[5, 0, 0, 1, 10, 0, 0, 1, 0x9c, 0x40])
        .c(&cr(0))
        .s(&{
            let mut x = vec![14, 0xD0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0];
            x.extend_from_slice(&5u32.to_le_bytes());
            tpkt(&x)
        })
        .send(false, &[], Flags::Fin)
        .run();
    let c = codes(&r);
    assert_eq!(c[0], ("negotiation_failure".into(), "error".into()));
    assert!(c.contains(&("via_proxy".into(), "info".into())), "{c:?}");
    assert_eq!(r["proxy"]["granted"], true);
    assert!(r["anomalies"].as_array().unwrap().is_empty());
}

#[test]
fn bytes_that_only_start_like_socks_are_an_anomaly_not_a_proxy() {
    // 0x05 then a greeting with no method: not SOCKS; the decoder resynchronises on the
    // X.224 request that follows.
    let mut first = vec![5, 0];
    first.extend_from_slice(&cr(1));
    let r = Convo::new(T2024).c(&first).s(&cc(1)).send(true, &[], Flags::Fin).run();
    assert!(r.get("proxy").is_none_or(Value::is_null), "{}", r["proxy"]);
    assert_eq!(r["negotiation"]["selected"], "ssl");
    assert_eq!(r["anomalies"][0]["what"], "SOCKS5 greeting offers no method");
}

// HTTP CONNECT shapes the lab (tinyproxy + xfreerdp, which never sends credentials) does not produce.

const CONNECT: &[u8] = b"CONNECT rdp.corp.example:3389 HTTP/1.1\r\nHost: rdp.corp.example:3389\r\n\r\n";

#[test]
fn http_407_then_200_with_credentials_opens_the_tunnel() {
    let page = b"<html>auth</html>";
    let mut challenge = format!(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nContent-Length: {}\r\n\r\n",
        page.len()
    )
    .into_bytes();
    challenge.extend_from_slice(page);
    let with_auth = b"CONNECT rdp.corp.example:3389 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpzM2NyZXQ=\r\n\r\n";
    let r = Convo::new(T2024)
        .c(CONNECT)
        .s(&challenge)
        .c(with_auth)
        .s(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .c(&cr(1))
        .s(&cc(1))
        .send(true, &[], Flags::Fin)
        .run();
    let c = codes(&r);
    assert!(c.contains(&("via_proxy".into(), "info".into())), "{c:?}");
    assert!(!c.iter().any(|(code, _)| code == "proxy_auth_failed"), "{c:?}");
    let detail = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "via_proxy")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("after a first answer 407"), "{detail}");
    assert_eq!(r["proxy"]["requests"], 2);
    assert_eq!(r["proxy"]["auth_ok"], true);
    assert_eq!(r["proxy"]["method"], "Basic");
    assert_eq!(r["negotiation"]["selected"], "ssl");
    assert!(r["anomalies"].as_array().unwrap().is_empty(), "{}", r["anomalies"]);
    // The credentials never reach any output.
    assert!(!r.to_string().contains("dXNlcjpzM2NyZXQ"));
}

#[test]
fn http_407_to_credentials_is_rejected_credentials() {
    let r = Convo::new(T2024)
        .c(b"CONNECT 10.0.0.9:3389 HTTP/1.1\r\nProxy-Authorization: Basic d3Jvbmc=\r\n\r\n")
        .s(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n")
        .send(false, &[], Flags::Fin)
        .run();
    assert_eq!(codes(&r)[0], ("proxy_auth_failed".into(), "error".into()));
    let s = r["findings"][0]["summary"].as_str().unwrap();
    assert!(s.contains("rejected the client's Basic credentials"), "{s}");
    assert_eq!(r["proxy"]["auth_ok"], false);
}

#[test]
fn http_502_is_proxy_refused_and_an_unanswered_connect_is_no_reply() {
    let r = Convo::new(T2024)
        .c(CONNECT)
        .s(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nerror")
        .send(false, &[], Flags::Fin)
        .run();
    assert_eq!(codes(&r)[0], ("proxy_refused".into(), "error".into()));
    assert!(r["findings"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("502 Bad Gateway"));
    assert!(r["anomalies"].as_array().unwrap().is_empty());

    // A page claiming more than the 64 KiB skip bound ends the decoding of the proxy's side:
    // nothing of it is buffered or read as TPKT/TLS.
    let r = Convo::new(T2024)
        .c(CONNECT)
        .s(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000000\r\n\r\n<html>")
        .s(&[0x16; 3000])
        .send(false, &[], Flags::Fin)
        .run();
    assert_eq!(codes(&r)[0], ("proxy_refused".into(), "error".into()));
    assert!(r["anomalies"].as_array().unwrap().is_empty(), "{}", r["anomalies"]);
    assert!(r["tls"].is_null());

    let mut c = Convo::new(T2024);
    c.c(CONNECT);
    c.t += 9_000_000_000; // the client waits 9 s, then gives up
    let r = c.send(true, &[], Flags::Fin).run();
    assert_eq!(codes(&r)[0], ("proxy_no_reply".into(), "error".into()));
    assert!(r["findings"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("HTTP proxy never answered the CONNECT"));
}
