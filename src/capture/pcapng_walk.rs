//! A second, light walk over a pcapng file in step with libpcap: for each packet libpcap
//! returns, the packet block's interface, packet id and drop verdict (`capture::pcapng_meta`
//! parses them). Blocks are read one at a time; a block larger than the bound is skipped
//! unread (its packet gets no metadata). A file the walk cannot follow ends the walk, never
//! the reading: the packets after it simply have no metadata.

use std::io::{BufReader, Read};

use super::pcapng_meta::{self, Block, PacketMeta};

/// Blocks read whole up to this size (a packet of 256 KiB and its options); larger ones
/// are skipped.
pub const MAX_META_BLOCK: u32 = 300 * 1024;

pub struct Walker<R: Read> {
    r: BufReader<R>,
    big_endian: bool,
    buf: Vec<u8>,
    ended: bool,
}

impl<R: Read> Walker<R> {
    pub fn new(r: R) -> Walker<R> {
        Walker {
            r: BufReader::with_capacity(256 * 1024, r),
            big_endian: false,
            buf: Vec::new(),
            ended: false,
        }
    }

    /// The metadata of the next packet block; `None` at the end or once the walk is lost.
    pub fn next_packet(&mut self) -> Option<PacketMeta> {
        while !self.ended {
            match self.block() {
                Some(Block::Packet(m)) => return Some(m),
                Some(Block::Section { big_endian }) => self.big_endian = big_endian,
                Some(Block::Other) => {}
                None => self.ended = true,
            }
        }
        None
    }

    fn block(&mut self) -> Option<Block> {
        let mut head = [0u8; 12];
        self.r.read_exact(&mut head[..8]).ok()?;
        let mut have = 8;
        let mut be = self.big_endian;
        if pcapng_meta::block_head(&head, be)?.0 == pcapng_meta::SHB {
            // The section's byte order comes with it: its magic follows the length.
            self.r.read_exact(head.get_mut(8..12)?).ok()?;
            have = 12;
            be = pcapng_meta::section_big_endian(&head)?;
        }
        let (kind, len) = pcapng_meta::block_head(&head, be)?;
        if len < 12 || len % 4 != 0 {
            return None;
        }
        if len > MAX_META_BLOCK {
            let skip = u64::from(len) - have as u64;
            let skipped = std::io::copy(&mut (&mut self.r).take(skip), &mut std::io::sink()).ok()?;
            return (skipped == skip).then(|| {
                if matches!(kind, 2 | 3 | 6) {
                    Block::Packet(PacketMeta::default())
                } else {
                    Block::Other
                }
            });
        }
        self.buf.clear();
        self.buf.extend_from_slice(head.get(..have)?);
        self.buf.resize(len as usize, 0);
        self.r.read_exact(self.buf.get_mut(have..)?).ok()?;
        Some(pcapng_meta::parse_block(&self.buf, be))
    }
}
