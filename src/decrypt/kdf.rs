//! Key derivation glue over `hmac`/`hkdf`: the TLS 1.0/1.1 and 1.2 PRFs (RFC 2246 §5,
//! RFC 5246 §5), the key block (RFC 5246 §6.3) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{Digest, FixedOutputReset};
use hmac::{Mac, SimpleHmac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The hash a PRF or HKDF runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub(crate) fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// P_hash (RFC 5246 §5): A(0) = seed, A(i) = HMAC(secret, A(i-1)),
/// output = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + …, cut to `out.len()`.
/// `SimpleHmac` takes keys of any length, so creating it cannot fail.
fn p_hash<D>(secret: &[u8], seed: &[&[u8]], out: &mut [u8])
where
    D: Digest + BlockSizeUser + FixedOutputReset + Clone,
{
    let Ok(keyed) = <SimpleHmac<D> as Mac>::new_from_slice(secret) else {
        return;
    };
    let mut a: Vec<u8> = {
        let mut m = keyed.clone();
        for s in seed {
            m.update(s);
        }
        m.finalize().into_bytes().to_vec()
    };
    for chunk in out.chunks_mut(<D as Digest>::output_size()) {
        let mut m = keyed.clone();
        m.update(&a);
        for s in seed {
            m.update(s);
        }
        let block = m.finalize().into_bytes();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes().to_vec();
    }
}

/// The TLS 1.2 PRF (RFC 5246 §5): P_<hash>(secret, label + seed), the hash being SHA-256 or the
/// suite's PRF hash (SHA-384 for the `_SHA384` suites, RFC 5288 §3 / RFC 5289 §3.2).
pub(crate) fn prf12(hash: Hash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mut parts: Vec<&[u8]> = vec![label];
    parts.extend_from_slice(seed);
    match hash {
        Hash::Sha256 => p_hash::<Sha256>(secret, &parts, out),
        Hash::Sha384 => p_hash::<Sha384>(secret, &parts, out),
    }
}

/// The TLS 1.0/1.1 PRF (RFC 2246 §5, RFC 4346 §5): the secret is split in two halves (sharing
/// the middle byte when its length is odd), PRF = P_MD5(S1, label + seed) XOR P_SHA-1(S2, …).
pub(crate) fn prf10(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let half = secret.len().div_ceil(2);
    let s1 = secret.get(..half).unwrap_or(&[]);
    let s2 = secret.get(secret.len() - half..).unwrap_or(&[]);
    let mut parts: Vec<&[u8]> = vec![label];
    parts.extend_from_slice(seed);
    let mut sha = vec![0u8; out.len()];
    p_hash::<Md5>(s1, &parts, out);
    p_hash::<Sha1>(s2, &parts, &mut sha);
    for (o, s) in out.iter_mut().zip(&sha) {
        *o ^= s;
    }
}

/// The key block (RFC 5246 §6.3): PRF(master_secret, "key expansion", server_random +
/// client_random). `prf_hash` is `None` for TLS 1.0/1.1.
pub(crate) fn key_block(
    prf_hash: Option<Hash>,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    len: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let seed: [&[u8]; 2] = [server_random, client_random];
    match prf_hash {
        Some(h) => prf12(h, master, b"key expansion", &seed, &mut out),
        None => prf10(master, b"key expansion", &seed, &mut out),
    }
    out
}

/// HKDF-Expand-Label(Secret, Label, "", Length) (RFC 8446 §7.1): HKDF-Expand with the info
/// `uint16 length || opaque label<7..255> = "tls13 " + Label || opaque context<0..255> = ""`.
/// `None` if the secret is shorter than the hash (HKDF's PRK requirement).
pub(crate) fn expand_label(hash: Hash, secret: &[u8], label: &[u8], len: usize) -> Option<Vec<u8>> {
    let full_label_len = u8::try_from(6 + label.len()).ok()?;
    let mut info = Vec::with_capacity(4 + usize::from(full_label_len));
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(full_label_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(0);
    let mut out = vec![0u8; len];
    match hash {
        Hash::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        Hash::Sha384 => hkdf::Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::unhex;

    /// The TLS 1.2 PRF (P_SHA256) test vector published by Chris Newman on the IETF TLS list and
    /// used by many libraries (e.g. Go's crypto/tls, mbed TLS): secret, label "test label", seed,
    /// 100 bytes of output.
    #[test]
    fn prf_sha256_published_vector() {
        let secret = unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35");
        let seed = unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c");
        let want = unhex(
            "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
             6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
             4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
             87 34 7b 66",
        );
        let mut out = vec![0u8; want.len()];
        prf12(Hash::Sha256, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(out, want);
    }

    /// The same list's P_SHA384 vector (148 bytes).
    #[test]
    fn prf_sha384_published_vector() {
        let secret = unhex("b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df");
        let seed = unhex("cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65");
        let want = unhex(
            "7b 0c 18 e9 ce d4 10 ed 18 04 f2 cf a3 4a 33 6a 1c 14 df fb 49 00 bb 5f d7 94 21 07 e8 1c 83 cd
             e9 ca 0f aa 60 be 9f e3 4f 82 b1 23 3c 91 46 a0 e5 34 cb 40 0f ed 27 00 88 4f 9d c2 36 f8 0e dd
             8b fa 96 11 44 c9 e8 d7 92 ec a7 22 a7 b3 2f c3 d4 16 d4 73 eb c2 c5 fd 4a bf da d0 5d 91 84 25
             9b 5b f8 cd 4d 90 fa 0d 31 e2 de c4 79 e4 f1 a2 60 66 f2 ee a9 a6 92 36 a3 e5 26 55 c9 e9 ae e6
             91 c8 f3 a2 68 54 30 8d 5e aa 3b e8 5e 09 90 70 3d 73 e5 6f",
        );
        let mut out = vec![0u8; want.len()];
        prf12(Hash::Sha384, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(out, want);
    }

    /// RFC 8448 §3: the server handshake traffic secret expands to the key and iv printed there.
    #[test]
    fn expand_label_rfc8448() {
        let secret =
            unhex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
        assert_eq!(
            expand_label(Hash::Sha256, &secret, b"key", 16).unwrap(),
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(
            expand_label(Hash::Sha256, &secret, b"iv", 12).unwrap(),
            unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30")
        );
        assert!(
            expand_label(Hash::Sha384, &secret, b"key", 32).is_none(),
            "secret shorter than SHA-384"
        );
    }

    /// The TLS 1.0/1.1 PRF vector from the IETF TLS list (secret 48 x 0xab, label
    /// "PRF Testvector", seed 64 x 0xcd), as BearSSL and mbed TLS test it.
    #[test]
    fn prf10_published_vector() {
        let want = unhex(
            "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754443bcf9a296519bc289abcbc1187e4eb
             d31e602353776c408aafb74cbc85eff69255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f
             1afbc655a8c9a013",
        );
        let mut out = vec![0u8; want.len()];
        prf10(&[0xab; 48], b"PRF Testvector", &[&[0xcd; 64]], &mut out);
        assert_eq!(out, want);
    }

    /// The TLS 1.0 PRF with an odd-length secret against an independent computation: P_MD5 and P_SHA-1 written out from
    /// RFC 2246 §5 with the hmac crate directly.
    #[test]
    fn prf10_is_md5_xor_sha1() {
        let secret: Vec<u8> = (1..=47u8).collect();
        let seed = b"seed bytes";
        let mut out = [0u8; 104];
        prf10(&secret, b"label", &[seed], &mut out);
        let manual = |key: &[u8], md5: bool| -> Vec<u8> {
            let h = |k: &[u8], d: &[u8]| -> Vec<u8> {
                if md5 {
                    let mut m = <SimpleHmac<Md5> as Mac>::new_from_slice(k).unwrap();
                    m.update(d);
                    m.finalize().into_bytes().to_vec()
                } else {
                    let mut m = <SimpleHmac<Sha1> as Mac>::new_from_slice(k).unwrap();
                    m.update(d);
                    m.finalize().into_bytes().to_vec()
                }
            };
            let ls: Vec<u8> = [&b"label"[..], seed].concat();
            let mut a = h(key, &ls);
            let mut o = Vec::new();
            while o.len() < 104 {
                o.extend(h(key, &[a.clone(), ls.clone()].concat()));
                a = h(key, &a);
            }
            o.truncate(104);
            o
        };
        // 47 bytes: halves of 24 sharing byte 24 (RFC 2246 §5).
        let md5 = manual(&secret[..24], true);
        let sha = manual(&secret[23..], false);
        let want: Vec<u8> = md5.iter().zip(&sha).map(|(a, b)| a ^ b).collect();
        assert_eq!(out.to_vec(), want);
    }
}
