//! (temporary: replaced by the real MCS/GCC module)
use super::{ParseError, ParseResult};
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectInitial {
    pub client_core: Option<ClientCore>,
    pub client_security: Option<ClientSecurity>,
    pub channels: Vec<String>,
}
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCore {
    pub version: u32,
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub keyboard_layout: u32,
    pub client_build: u32,
    pub client_name: String,
    pub keyboard_type: Option<u32>,
    pub color_depth: Option<u16>,
    pub requested_protocols: Option<u32>,
    pub dig_product_id: Option<String>,
}
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientSecurity {
    pub encryption_methods: u32,
    pub ext_encryption_methods: u32,
}
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectResponse {
    pub result: u8,
    pub server_core: Option<ServerCore>,
    pub server_security: Option<ServerSecurity>,
}
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCore {
    pub version: u32,
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
}
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerSecurity {
    pub encryption_method: u32,
    pub encryption_level: u32,
    pub certificate: Option<ServerCertificate>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCertificate {
    Proprietary {
        key_bits: Option<u32>,
    },
    X509Chain {
        count: u32,
        leaf_der: Vec<u8>,
        permanent: bool,
    },
}
pub fn parse_connect_initial(_i: &[u8]) -> ParseResult<ConnectInitial> {
    Err(ParseError::Malformed("stub"))
}
pub fn parse_connect_response(_i: &[u8]) -> ParseResult<ConnectResponse> {
    Err(ParseError::Malformed("stub"))
}
pub fn encryption_method_name(m: u32) -> String {
    format!("0x{m:x}")
}
pub fn encryption_level_name(l: u32) -> String {
    format!("{l}")
}
