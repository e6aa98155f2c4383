//! Analysis settings and resource bounds (see docs/limits.md). Defaults are chosen for a
//! sensor: generous enough for real handshakes, small enough that hostile traffic cannot
//! make memory grow without limit.

#[derive(Debug, Clone)]
pub struct Config {
    /// TCP/UDP ports that identify the server side when no SYN shows who connected.
    pub server_ports: Vec<u16>,
    /// Most TCP connections tracked at once; the least recently active tenth is evicted beyond.
    pub max_flows: usize,
    /// Most bytes held in reassembly and PDU buffers over all connections; beyond it the
    /// least recently active connections holding bytes are evicted.
    pub max_buffered_bytes: usize,
    /// Half-open attempts (SYNs only) to one server at once beyond which it is under a SYN
    /// flood and its unanswered attempts are summarised (at most half of `max_flows`).
    pub flood_half_open: usize,
    /// Most RDP-UDP flows tracked at once.
    pub max_udp_flows: usize,
    /// Bytes one stream direction may buffer while waiting for a complete PDU or record.
    pub max_stream_buffer: usize,
    /// Bytes of out-of-order data one direction may hold before the hole becomes a gap.
    pub max_out_of_order: usize,
    /// Bytes one direction may buffer to defragment a TLS handshake message (certificates).
    pub max_handshake_message: usize,
    /// TLS records other than application data (handshake, alerts, ChangeCipherSpec) parsed
    /// per direction before parsing stops: a real handshake needs a handful.
    pub max_handshake_records: usize,
    /// TLS application-data records recorded per direction before parsing stops.
    pub max_app_records: usize,
    /// Timeline events kept per connection.
    pub max_events: usize,
    /// A connection with no packets for this long (capture time) is finished.
    pub idle_timeout_secs: u64,
    /// A closed connection (RST, or FIN both ways) is finished this long after its close.
    pub close_linger_secs: u64,
    /// Handshake or median RTT above this is reported as high latency.
    pub high_latency_ms: f64,
    /// Threads for reading files: 1 reads and analyzes on one thread; 2 or more reads
    /// (libpcap and the filter) on a second thread while the first analyzes. Results are the
    /// same either way.
    pub threads: usize,
    /// `--keylog`: NSS key log files whose secrets decrypt the TLS of the connections they
    /// name (read by the shells; the core is handed the secrets).
    pub keylogs: Vec<std::path::PathBuf>,
    /// `--server-key`: RSA private keys of RDP servers, for sessions with an RSA key exchange.
    /// With any, each connection keeps its TLS handshake bytes up to the ClientKeyExchange
    /// (bounded) for the extended master secret.
    pub server_keys: Vec<std::path::PathBuf>,
    /// Failed authentication or negotiation attempts from one client address within
    /// `attack_window_secs` that are reported as a brute force.
    pub brute_force_attempts: usize,
    /// Distinct user names failing from one client address within the window that are
    /// reported as password spraying.
    pub spray_users: usize,
    pub attack_window_secs: u32,
    /// Client addresses followed at once by the brute-force detector (docs/limits.md).
    pub max_attack_sources: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_ports: vec![3389],
            max_flows: 100_000,
            max_buffered_bytes: 64 << 20,
            flood_half_open: 1000,
            max_udp_flows: 10_000,
            max_stream_buffer: 128 * 1024,
            max_out_of_order: 256 * 1024,
            max_handshake_message: 64 * 1024,
            max_app_records: 64,
            max_handshake_records: 64,
            max_events: 256,
            idle_timeout_secs: 600,
            close_linger_secs: 5,
            high_latency_ms: 150.0,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            keylogs: Vec::new(),
            server_keys: Vec::new(),
            brute_force_attempts: 20,
            spray_users: 10,
            attack_window_secs: 300,
            max_attack_sources: 10_000,
        }
    }
}

/// An RD Gateway's UDP transport port (MS-TSGU 2.1 UDP transport).
pub const GATEWAY_UDP_PORT: u16 = 3391;

impl Config {
    pub fn is_server_port(&self, port: u16) -> bool {
        self.server_ports.contains(&port)
    }

    /// UDP: the RDP ports, and 3391, an RD Gateway's UDP (DTLS) side channel.
    pub fn is_udp_server_port(&self, port: u16) -> bool {
        port == GATEWAY_UDP_PORT || self.is_server_port(port)
    }
}
