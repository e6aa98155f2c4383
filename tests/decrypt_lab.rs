//! TLS decryption on the lab captures (FreeRDP/rdesktop clients against xrdp and FreeRDP
//! servers, fixtures/lab) with their NSS key logs (`NAME.keys`): every connection whose client
//! random is in the key log decrypts completely, whatever version and suite it negotiated, and the
//! plaintext equals tshark's decryption with the same key log (for the connections tshark can
//! decrypt: not those inside a SOCKS or HTTP CONNECT tunnel).

mod common;
mod decrypt_support;

use std::collections::BTreeSet;

use decrypt_support as ds;
use rdpscope::decrypt::{suite_name, Session, Stop};
use rdpscope::flow::Side;

#[test]
fn every_keyed_lab_connection_decrypts_like_tshark() {
    let lab = ds::root().join("fixtures/lab");
    let tshark = ds::tshark_available();
    let mut keys: Vec<_> = std::fs::read_dir(&lab)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "keys"))
        .collect();
    keys.sort();
    assert!(!keys.is_empty(), "lab key logs");
    let mut seen = BTreeSet::new();
    let mut connections = 0;
    let mut compared = 0;
    for k in &keys {
        let pcap = k.with_extension("pcap");
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let kl = ds::keylog_from(&std::fs::read(k).unwrap());
        assert_eq!(kl.stats().bad, 0, "{name}: key log lines");
        let mut ports = vec![3389];
        if let Ok(p) = std::fs::read_to_string(k.with_extension("ports")) {
            ports.extend(p.split_whitespace().filter_map(|p| p.parse::<u16>().ok()));
        }
        let mut decrypted_here = 0;
        for stream in ds::streams(&pcap, &ports) {
            let Some(c) = ds::conn(&stream) else { continue };
            let ctx = format!("{name} stream {}", stream.index);
            if kl.get(&c.params.client_random).is_none() {
                println!("{ctx}: no key for this connection");
                continue;
            }
            let mut session = Session::new(&c.params, &kl);
            let (client, cstop) = ds::decrypt(&mut session, Side::Client, &c.client);
            let (server, sstop) = ds::decrypt(&mut session, Side::Server, &c.server);
            let stops: (Option<Stop>, Option<Stop>) = (cstop, sstop);
            assert_eq!(stops, (None, None), "{ctx}: every record authenticates");
            assert!(!client.is_empty() && !server.is_empty(), "{ctx}: records both ways");
            seen.insert((c.params.version, suite_name(c.params.cipher).unwrap()));
            // tshark does not follow TLS inside a SOCKS or HTTP CONNECT tunnel (it stops at the
            // TPKT after the proxy exchange): those connections are checked by authentication only.
            if tshark && stream.server_port != 3389 {
                println!("{ctx}: proxied, not compared with tshark");
            } else if tshark {
                compared += 1;
                let (tc, ts) = ds::tshark_plaintexts(&pcap, Some(k), &stream);
                let data = |v: &[rdpscope::decrypt::Plain]| v.iter().map(|p| p.data.clone()).collect::<Vec<_>>();
                assert_eq!(
                    (tc.len(), ts.len()),
                    (client.len(), server.len()),
                    "{ctx}: record counts vs tshark"
                );
                assert!(tc == data(&client), "{ctx}: client plaintext differs from tshark's");
                assert!(ts == data(&server), "{ctx}: server plaintext differs from tshark's");
            }
            decrypted_here += 1;
            connections += 1;
        }
        assert!(decrypted_here > 0, "{name}: at least one connection has its key");
    }
    println!("decrypted {connections} lab connections ({compared} compared with tshark); {seen:?}");
    assert!(!tshark || compared > 0);
    assert!(
        seen.iter().any(|(v, _)| *v == 0x0304),
        "some lab connections are TLS 1.3"
    );
    assert!(
        seen.iter().any(|(v, _)| *v == 0x0303),
        "some lab connections are TLS 1.2"
    );
}
