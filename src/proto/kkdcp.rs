//! MS-KKDCP KDC proxy messages (2.2.2): the body of a `POST /KdcProxy` request or response
//! is a DER `KDC-PROXY-MESSAGE ::= SEQUENCE { kerb-message [0] OCTET STRING,
//! target-domain [1] KERB-REALM OPTIONAL, dclocator-hint [2] INTEGER OPTIONAL }`, whose
//! kerb-message is a Kerberos message with its 4-octet TCP length prefix (RFC 4120 §7.2.2).

use super::der;
use super::kerberos::{self, KrbMessage};
use super::{ParseError, ParseResult};

/// The proxied message and the realm the client named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyMessage {
    pub message: KrbMessage,
    pub target_domain: Option<String>,
}

/// A whole KDC-PROXY-MESSAGE (a body already cut to its length).
pub fn parse(i: &[u8]) -> ParseResult<ProxyMessage> {
    let (seq, _) = der::expect(i, 0x30, "KDC-PROXY-MESSAGE is not a SEQUENCE")?;
    let items = der::children(seq)?;
    let kerb = der::field(&items, 0).ok_or(ParseError::Malformed("KDC-PROXY-MESSAGE without kerb-message"))?;
    let record = der::explicit_octets(kerb)?;
    let (message, _) = kerberos::parse_tcp_record(record).map_err(|e| match e {
        ParseError::Incomplete => ParseError::Malformed("kerb-message shorter than its length prefix"),
        other => other,
    })?;
    let target_domain = der::field(&items, 1).and_then(|t| der::explicit_string(t, 128).ok());
    Ok(ProxyMessage { message, target_domain })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(id: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![id];
        let n = content.len();
        if n < 128 {
            v.push(u8::try_from(n).unwrap());
        } else {
            v.extend_from_slice(&[0x82, u8::try_from(n >> 8).unwrap(), u8::try_from(n & 0xff).unwrap()]);
        }
        v.extend_from_slice(content);
        v
    }

    /// A KRB-ERROR (RFC 4120 §5.9.1) with pvno 5, msg-type 30, error-code 25.
    fn krb_error() -> Vec<u8> {
        let int = |n: u8| tlv(0x02, &[n]);
        let realm = tlv(0x1b, b"AD.IT-HELP.NINJA");
        let sname = tlv(
            0x30,
            &[
                tlv(0xa0, &int(2)),
                tlv(0xa1, &tlv(0x30, &[tlv(0x1b, b"krbtgt"), realm.clone()].concat())),
            ]
            .concat(),
        );
        let time = tlv(0x18, b"20240510200010Z");
        let body = [
            tlv(0xa0, &int(5)),
            tlv(0xa1, &int(30)),
            tlv(0xa4, &time),
            tlv(0xa5, &int(0)),
            tlv(0xa6, &int(25)),
            tlv(0xa9, &realm),
            tlv(0xaa, &sname),
        ]
        .concat();
        tlv(0x7e, &tlv(0x30, &body))
    }

    #[test]
    fn proxied_krb_error() {
        let k = krb_error();
        let mut record = u32::try_from(k.len()).unwrap().to_be_bytes().to_vec();
        record.extend_from_slice(&k);
        let msg = tlv(
            0x30,
            &[
                tlv(0xa0, &tlv(0x04, &record)),
                tlv(0xa1, &tlv(0x1b, b"ad.it-help.ninja")),
            ]
            .concat(),
        );
        let p = parse(&msg).unwrap();
        let KrbMessage::Error(e) = &p.message else {
            panic!("{:?}", p.message)
        };
        assert_eq!(e.error_code, 25);
        assert_eq!(p.target_domain.as_deref(), Some("ad.it-help.ninja"));
        assert!(parse(&msg[..msg.len() - 3]).is_err());
        assert!(parse(b"<html>").is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut m = vec![0x30];
            m.extend_from_slice(&data);
            let _ = parse(&m);
            let _ = parse(&data);
        }
    }
}
