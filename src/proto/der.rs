//! A minimal, bounded DER reader (X.690 §8 with the DER restrictions of §10) for the
//! structures that travel inside the TLS of an RDP connection: CredSSP TSRequests
//! (MS-CSSP 2.2.1), SPNEGO tokens (RFC 4178) and the GSS-API framing of Kerberos
//! (RFC 2743 §3.1, RFC 4121 §4.1).
//!
//! Hand-written rather than `der-parser` so every length is checked against the enclosing
//! buffer in one place, indefinite lengths (BER only, never DER) are refused, and the
//! callers get `&[u8]` views without any allocation.

use super::{ParseError, ParseResult};

/// Length octets beyond 4 would describe more than 4 GiB: never meaningful here.
const MAX_LENGTH_OCTETS: usize = 4;

/// Most elements walked in one SEQUENCE / SEQUENCE OF; a real one has under ten.
pub const MAX_ITEMS: usize = 64;

/// One DER element: its identifier, its content and how many bytes it took in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The first identifier octet as on the wire (class, constructed bit, low tag bits),
    /// e.g. `0x30` SEQUENCE, `0xA0` `[0]` constructed, `0x60` `[APPLICATION 0]`.
    pub id: u8,
    /// The tag number (the low five bits, or the high-tag-number form's value).
    pub tag: u32,
    pub content: &'a [u8],
    /// Header plus content length.
    pub total_len: usize,
}

/// Identifier and length of the element at the start of `i`: `(id, tag, header length,
/// content length)`. `Incomplete` when the header itself is cut short.
pub fn header(i: &[u8]) -> ParseResult<(u8, u32, usize, usize)> {
    let id = *i.first().ok_or(ParseError::Incomplete)?;
    let mut at = 1usize;
    let mut tag = u32::from(id & 0x1f);
    if tag == 0x1f {
        // X.690 §8.1.2.4: high tag number form, base-128; four octets are plenty.
        tag = 0;
        loop {
            let b = *i.get(at).ok_or(ParseError::Incomplete)?;
            at += 1;
            if at > 5 {
                return Err(ParseError::Malformed("DER tag number too long"));
            }
            tag = (tag << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let first = *i.get(at).ok_or(ParseError::Incomplete)?;
    at += 1;
    let len = if first & 0x80 == 0 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 {
            return Err(ParseError::Malformed("DER indefinite length"));
        }
        if n > MAX_LENGTH_OCTETS {
            return Err(ParseError::Malformed("DER length too long"));
        }
        let mut len = 0usize;
        for _ in 0..n {
            let b = *i.get(at).ok_or(ParseError::Incomplete)?;
            at += 1;
            len = (len << 8) | usize::from(b);
        }
        len
    };
    Ok((id, tag, at, len))
}

/// Total length (header + content) of the element at the start of `i`, read from its
/// header alone: what a caller cutting a byte stream into elements waits for.
pub fn element_len(i: &[u8]) -> ParseResult<usize> {
    let (_, _, hdr, len) = header(i)?;
    hdr.checked_add(len)
        .ok_or(ParseError::Malformed("DER length overflows"))
}

/// Reads the element at the start of `i`; returns it and what follows.
/// `Incomplete` when the content runs past the end of `i`.
pub fn read(i: &[u8]) -> ParseResult<(Tlv<'_>, &[u8])> {
    let (id, tag, hdr, len) = header(i)?;
    let total_len = hdr
        .checked_add(len)
        .ok_or(ParseError::Malformed("DER length overflows"))?;
    let content = i.get(hdr..total_len).ok_or(ParseError::Incomplete)?;
    let rest = i.get(total_len..).unwrap_or_default();
    Ok((
        Tlv {
            id,
            tag,
            content,
            total_len,
        },
        rest,
    ))
}

/// Reads an element nested inside an already-bounded parent: running past the parent is
/// an inconsistency (`Malformed`), not a need for more bytes.
pub fn read_inner(i: &[u8]) -> ParseResult<(Tlv<'_>, &[u8])> {
    read(i).map_err(|e| match e {
        ParseError::Incomplete => ParseError::Malformed("DER element runs past its parent"),
        other => other,
    })
}

/// Reads an inner element that must carry the identifier octet `id`; returns its content.
pub fn expect<'a>(i: &'a [u8], id: u8, what: &'static str) -> ParseResult<(&'a [u8], &'a [u8])> {
    let (t, rest) = read_inner(i)?;
    if t.id != id {
        return Err(ParseError::Malformed(what));
    }
    Ok((t.content, rest))
}

/// The children of a constructed element's content, at most [`MAX_ITEMS`] of them.
pub fn children(content: &[u8]) -> ParseResult<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        if out.len() >= MAX_ITEMS {
            return Err(ParseError::Malformed("DER: too many elements"));
        }
        let (t, r) = read_inner(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

/// The context-specific constructed child `[n]` (identifier `0xA0 | n`) of a SEQUENCE
/// content, if present.
pub fn field<'a>(items: &[Tlv<'a>], n: u8) -> Option<&'a [u8]> {
    items.iter().find(|t| t.id == 0xa0 | n).map(|t| t.content)
}

/// INTEGER content (X.690 §8.3) as the 32 bits it carries: DER keeps the value signed, so
/// 0xC000006E arrives as `C0 00 00 6E` (negative) and `00 80 ...` needs its leading zero
/// dropped. Values that need more than 32 bits are refused.
pub fn integer_u32(content: &[u8]) -> ParseResult<u32> {
    let bytes = match content {
        [] => return Err(ParseError::Malformed("DER INTEGER is empty")),
        [0, rest @ ..] if rest.len() == 4 => rest,
        c if c.len() > 4 => return Err(ParseError::Malformed("DER INTEGER wider than 32 bits")),
        c => c,
    };
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0) && bytes.len() == content.len();
    let mut v: u32 = if negative { u32::MAX } else { 0 };
    for b in bytes {
        v = (v << 8) | u32::from(*b);
    }
    Ok(v)
}

/// An INTEGER element (identifier 0x02) inside an explicit tag's content.
pub fn explicit_u32(tagged: &[u8]) -> ParseResult<u32> {
    let (c, _) = expect(tagged, 0x02, "DER: INTEGER expected")?;
    integer_u32(c)
}

/// An OCTET STRING element (identifier 0x04) inside an explicit tag's content.
pub fn explicit_octets(tagged: &[u8]) -> ParseResult<&[u8]> {
    expect(tagged, 0x04, "DER: OCTET STRING expected").map(|(c, _)| c)
}

/// A character string (GeneralString 0x1B, UTF8String 0x0C, IA5String 0x16,
/// PrintableString 0x13) inside an explicit tag's content, lossily decoded and cut to
/// `max` characters.
pub fn explicit_string(tagged: &[u8], max: usize) -> ParseResult<String> {
    let (t, _) = read_inner(tagged)?;
    if !matches!(t.id, 0x1b | 0x0c | 0x16 | 0x13) {
        return Err(ParseError::Malformed("DER: character string expected"));
    }
    Ok(String::from_utf8_lossy(t.content).chars().take(max).collect())
}

/// Dotted text of an OBJECT IDENTIFIER's content (X.690 §8.19); `None` if malformed.
/// Arcs wider than 32 bits are refused, so the text is at most a few hundred characters
/// for the bounded content the callers pass.
pub fn oid_text(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u32> = Vec::new();
    let mut v: u32 = 0;
    let mut in_arc = false;
    for b in content {
        if v > (u32::MAX >> 7) {
            return None;
        }
        v = (v << 7) | u32::from(b & 0x7f);
        in_arc = b & 0x80 != 0;
        if !in_arc {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    if in_arc || arcs.is_empty() {
        return None;
    }
    Some(arcs.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers() {
        assert_eq!(element_len(&[0x30, 0x82, 0x01, 0x00]), Ok(260));
        assert_eq!(element_len(&[0x30]), Err(ParseError::Incomplete));
        assert_eq!(element_len(&[0x30, 0x82, 0x01]), Err(ParseError::Incomplete));
        assert!(matches!(element_len(&[0x30, 0x80]), Err(ParseError::Malformed(_))));
        assert!(matches!(
            element_len(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(ParseError::Malformed(_))
        ));
        assert_eq!(read(&[0x04, 0x03, 1, 2]), Err(ParseError::Incomplete));
        assert_eq!(integer_u32(&[0xc0, 0, 0, 0x6e]), Ok(0xC000_006E));
        assert_eq!(integer_u32(&[0x00, 0xc0, 0, 0, 0x6e]), Ok(0xC000_006E));
        assert_eq!(integer_u32(&[0x06]), Ok(6));
        assert_eq!(integer_u32(&[0xff]), Ok(u32::MAX));
        assert_eq!(integer_u32(&[0x00, 0x80]), Ok(0x80));
        assert!(integer_u32(&[1, 2, 3, 4, 5]).is_err());
        assert!(integer_u32(&[]).is_err());
        // High tag number form.
        assert_eq!(header(&[0x1f, 0x81, 0x00, 0x00]), Ok((0x1f, 128, 4, 0)));
    }

    #[test]
    fn oids() {
        // 1.3.6.1.5.5.2 (SPNEGO), 1.2.840.113554.1.2.2 (Kerberos 5).
        assert_eq!(oid_text(&[0x2b, 6, 1, 5, 5, 2]).as_deref(), Some("1.3.6.1.5.5.2"));
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 2]).as_deref(),
            Some("1.2.840.113554.1.2.2")
        );
        assert_eq!(oid_text(&[0x2a, 0x86]), None);
        assert_eq!(oid_text(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), None);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = element_len(&data);
            if let Ok((t, _)) = read(&data) {
                let _ = children(t.content);
                let _ = integer_u32(t.content);
                let _ = oid_text(t.content);
                let _ = explicit_string(t.content, 10);
            }
        }
    }
}
