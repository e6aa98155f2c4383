//! Writing pcapng (draft-ietf-opsawg-pcapng): one section, one interface with nanosecond
//! timestamps, an optional Decryption Secrets Block, and Enhanced Packet Blocks. Used for an
//! evidence file that must carry its connection's TLS keys, so that it decrypts in Wireshark
//! and in rdpscope by itself (libpcap's writer has no DSB).

use std::io::{self, Write};

use crate::decrypt::dsb;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// if_tsresol (option 9): 10^-9 s.
const TSRESOL_NS: [u8; 8] = [9, 0, 1, 0, 9, 0, 0, 0];

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

pub struct PcapngWriter<W: Write> {
    w: W,
}

impl<W: Write> PcapngWriter<W> {
    /// The section and interface headers for `linktype` (a DLT value), then the key log
    /// `secrets` as a DSB if given (only that connection's lines, never a whole key log).
    pub fn new(mut w: W, linktype: u16, snaplen: u32, secrets: Option<&[u8]>) -> io::Result<Self> {
        // SHB: type, length, magic, version 1.0, section length unknown (-1), length.
        let mut shb = Vec::with_capacity(28);
        shb.extend_from_slice(&SHB.to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        w.write_all(&shb)?;
        // IDB with if_tsresol = 9 and opt_endofopt.
        let len: u32 = 20 + 8 + 4;
        let mut idb = Vec::with_capacity(len as usize);
        idb.extend_from_slice(&IDB.to_le_bytes());
        idb.extend_from_slice(&len.to_le_bytes());
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&snaplen.to_le_bytes());
        idb.extend_from_slice(&TSRESOL_NS);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        idb.extend_from_slice(&len.to_le_bytes());
        w.write_all(&idb)?;
        if let Some(s) = secrets {
            let block =
                dsb::encode_block(true, s).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            w.write_all(&block)?;
        }
        Ok(PcapngWriter { w })
    }

    /// One packet: time in ns since the epoch, captured bytes, original length.
    pub fn packet(&mut self, ts_ns: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let caplen =
            u32::try_from(data.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let pad = pad4(data.len());
        let len = 32 + data.len() + pad;
        let len32 = u32::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let ts = ts_ns as u64;
        let mut b = Vec::with_capacity(len);
        b.extend_from_slice(&EPB.to_le_bytes());
        b.extend_from_slice(&len32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts as u32).to_le_bytes());
        b.extend_from_slice(&caplen.to_le_bytes());
        b.extend_from_slice(&orig_len.to_le_bytes());
        b.extend_from_slice(data);
        b.extend(std::iter::repeat_n(0u8, pad));
        b.extend_from_slice(&len32.to_le_bytes());
        self.w.write_all(&b)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_secrets_are_found_again_and_libpcap_reads_the_packets() {
        let mut buf = Vec::new();
        let secrets = b"CLIENT_RANDOM 00 11\n";
        let mut w = PcapngWriter::new(&mut buf, 1, 65535, Some(secrets)).unwrap();
        w.packet(1_700_000_000_123_456_789, &[0xaa; 61], 61).unwrap();
        w.packet(1_700_000_001_000_000_000, &[0xbb; 64], 1500).unwrap();
        w.flush().unwrap();
        let found = dsb::scan_tls_keylogs(&buf[..]).unwrap();
        assert_eq!(found, vec![secrets.to_vec()]);
        let dir = std::env::temp_dir().join(format!("rdpscope-pcapng-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.pcapng");
        std::fs::write(&p, &buf).unwrap();
        let mut cap = pcap::Capture::from_file_with_precision(&p, pcap::Precision::Nano).unwrap();
        let a = cap.next_packet().unwrap();
        assert_eq!((a.header.ts.tv_sec, a.header.ts.tv_usec), (1_700_000_000, 123_456_789));
        assert_eq!((a.header.caplen, a.header.len, a.data.len()), (61, 61, 61));
        let b = cap.next_packet().unwrap();
        assert_eq!((b.header.caplen, b.header.len), (64, 1500));
        assert!(cap.next_packet().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
