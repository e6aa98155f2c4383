//! (temporary: replaced by the real RDP-UDP module)
use super::{ParseError, ParseResult};
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    pub snd_source_ack: u32,
    pub receive_window: u16,
    pub flags: u16,
    pub kind: UdpKind,
    pub syn: Option<SynInfo>,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpKind {
    Syn,
    SynAck,
    Other,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynInfo {
    pub initial_sequence: u32,
    pub upstream_mtu: u16,
    pub downstream_mtu: u16,
    pub correlation_id: Option<[u8; 16]>,
    pub synex_version: Option<u16>,
    pub lossy: bool,
}
pub fn parse_datagram(_i: &[u8]) -> ParseResult<UdpDatagram> {
    Err(ParseError::Malformed("stub"))
}
pub fn looks_like_syn(_i: &[u8]) -> bool {
    false
}
