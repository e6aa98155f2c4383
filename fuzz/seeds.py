#!/usr/bin/env python3
"""Seed the fuzz corpora from the fixtures (Python 3 standard library only).

    python3 fuzz/seeds.py        # writes fuzz/corpus/<target>/

x224, tls, tcp: each TCP direction's payload of every fixture, put in sequence order;
x224 also each TPKT PDU, mcs each X.224 Data payload (MCS/GCC), rdpeudp each UDP payload and
each flow in the target's framing, proxy each TCP conversation in its target's framing (the
sender of the first payload taken as the client), pipeline every classic pcap fixture as it is.
"""
import hashlib
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"


def frames(data):
    """(linktype, frame bytes) of a classic pcap or a pcapng file."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from pcapng_frames(data)
        return
    else:
        return
    link = struct.unpack(e + "I", data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[pos + 8:pos + 12])[0]
        yield link, data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


def pcapng_frames(data):
    e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links, pos = [], 0
    while pos + 12 <= len(data):
        btype, blen = struct.unpack(e + "II", data[pos:pos + 8])
        if blen < 12:
            return
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6:
            iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
            yield links[iface], body[20:20 + caplen]
        pos += blen


def ip_of(link, f):
    if link == 1:  # Ethernet, VLAN tags
        et, off = struct.unpack(">H", f[12:14])[0], 14
        while et in (0x8100, 0x88A8):
            et, off = struct.unpack(">H", f[off + 2:off + 4])[0], off + 4
        return f[off:]
    if link == 113:
        return f[16:]
    if link == 276:
        return f[20:]
    if link in (0, 108):
        return f[4:]
    return f  # raw IP


def transport(ip):
    """(proto, src, dst, sport, dport, seq, payload) or None."""
    if len(ip) < 28:
        return None
    if ip[0] >> 4 == 4:
        ihl, proto, total = (ip[0] & 15) * 4, ip[9], struct.unpack(">H", ip[2:4])[0]
        src, dst, l4 = ip[12:16], ip[16:20], ip[ihl:total or len(ip)]
    elif ip[0] >> 4 == 6:
        proto, plen = ip[6], struct.unpack(">H", ip[4:6])[0]
        src, dst, l4 = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        return 6, src, dst, sport, dport, seq, l4[(l4[12] >> 4) * 4:]
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack(">HH", l4[:4])
        return 17, src, dst, sport, dport, 0, l4[8:]
    return None


def tpkts(stream):
    pos = 0
    while pos + 4 <= len(stream) and stream[pos] == 3:
        n = struct.unpack(">H", stream[pos + 2:pos + 4])[0]
        if n < 4 or pos + n > len(stream):
            return
        yield stream[pos:pos + n]
        pos += n


def put(target, data):
    if data:
        d = OUT / target
        d.mkdir(parents=True, exist_ok=True)
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    caps = sorted((ROOT / "fixtures").glob("*/*.pcap*"))
    for cap in caps:
        raw = cap.read_bytes()
        if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            put("pipeline", raw)
        streams, udp, convs = {}, {}, {}
        try:
            parsed = list(frames(raw))
        except (struct.error, IndexError):
            parsed = []  # fixtures/malformed: whole file is a pipeline seed only
        for link, f in parsed:
            try:
                t = transport(ip_of(link, f))
            except (struct.error, IndexError):
                continue  # a hostile frame
            if not t or not t[6]:
                continue
            proto, src, dst, sport, dport, seq, payload = t
            if proto == 6:
                streams.setdefault((src, sport, dst, dport), {}).setdefault(seq, payload)
                conv = (min((src, sport), (dst, dport)), max((src, sport), (dst, dport)))
                convs.setdefault(conv, []).append(((src, sport) == conv[0], payload))
            else:
                key = (min((src, sport), (dst, dport)), max((src, sport), (dst, dport)))
                udp.setdefault(key, []).append((dport == 3389, payload))
        for segs in streams.values():
            stream = b"".join(segs[s] for s in sorted(segs))[:65536]
            put("x224", stream[:8192])
            put("tcp", stream[:4096])
            for p in tpkts(stream):
                put("x224", p)
                tpdu = p[4:]
                if len(tpdu) >= 3 and tpdu[1] == 0xF0:
                    put("mcs", tpdu[1 + tpdu[0]:])
            tls = stream.find(b"\x16\x03")
            if tls >= 0:
                put("tls", stream[tls:])
        for segs in convs.values():
            # proxy: the conversation as the target frames it (length | direction bit)
            first_to = segs[0][0]
            framed = b""
            for fwd, d in segs[:64]:
                d = d[:127]
                framed += bytes([len(d) | (0 if fwd == first_to else 0x80)]) + d
            put("proxy", framed)
        for dgrams in udp.values():
            framed = b""
            for to_server, d in dgrams[:32]:
                put("rdpeudp", d)
                d = d[:127]
                framed += bytes([len(d) | (0 if to_server else 0x80)]) + d
            put("rdpeudp", framed)
    # netmon: whole Network Monitor files (editcap conversions of lab captures).
    for cap in sorted((ROOT / "fixtures").glob("*/*.cap")) + sorted((ROOT / "fixtures" / "windows").glob("*.pcapng")):
        put("netmon", cap.read_bytes())
    for t in sorted(OUT.iterdir()):
        print(t.name, len(list(t.iterdir())))


main()
