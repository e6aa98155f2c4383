//! `live --metrics ADDR:PORT`: the Prometheus endpoint. std's listener and `httparse`: one
//! request at a time, `GET /metrics` only, bounded head and time per client. The listener is
//! bound before privileges are dropped (so any port can be named and a taken one is an error
//! at start); the thread that serves it is started after, so it holds no capability either.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdpscope::live::worker::Shared;
use rdpscope::report::prometheus::{self, Exposition};

/// Largest request head read (docs/limits.md): a scrape is a few hundred bytes.
const MAX_HEAD: usize = 8192;
/// A client that sends its request slower than this is dropped, so it cannot hold the port.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn bind(addr: &str) -> Result<TcpListener, String> {
    let a: SocketAddr = addr
        .parse()
        .map_err(|_| format!("--metrics {addr:?}: expected ADDR:PORT, e.g. 127.0.0.1:9839"))?;
    TcpListener::bind(a).map_err(|e| format!("--metrics {addr}: cannot listen: {e}"))
}

/// The exposition of what the analysis thread last published.
pub fn exposition(shared: &Shared, stdout_lost: u64) -> Exposition {
    let snap = shared.snapshot.lock().map(|s| Arc::clone(&s)).unwrap_or_default();
    Exposition {
        metrics: snap.metrics.clone(),
        open_connections: snap.open as u64,
        packets: snap.frames,
        dropped: [snap.dropped_by_us, snap.kernel_dropped, snap.if_dropped],
        write_errors: [snap.write_errors, stdout_lost],
        brute_force_sources: snap.brute_force_sources,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// What to answer a request head: status line, content type and body.
fn respond(head: &[u8], shared: &Shared, lost: &AtomicU64) -> (&'static str, &'static str, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return ("400 Bad Request", "text/plain", b"bad request\n".to_vec()),
    }
    if req.method != Some("GET") {
        return ("405 Method Not Allowed", "text/plain", b"only GET\n".to_vec());
    }
    if req.path.map(|p| p.split('?').next()) != Some(Some("/metrics")) {
        return ("404 Not Found", "text/plain", b"see /metrics\n".to_vec());
    }
    let mut body = Vec::with_capacity(8192);
    let e = exposition(shared, lost.load(Ordering::Relaxed));
    if prometheus::render(&mut body, &e).is_err() {
        return ("500 Internal Server Error", "text/plain", Vec::new());
    }
    ("200 OK", prometheus::CONTENT_TYPE, body)
}

/// Read a request head (up to the blank line), bounded in size and time.
fn read_head(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(head)
}

fn serve_one(mut s: TcpStream, shared: &Shared, lost: &AtomicU64) -> io::Result<()> {
    let head = read_head(&mut s)?;
    let (status, ctype, body) = respond(&head, shared, lost);
    write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(&body)?;
    s.flush()
}

/// Serve `/metrics` on its own thread until the process ends.
pub fn spawn(listener: TcpListener, shared: Arc<Shared>, lost: Arc<AtomicU64>) -> io::Result<()> {
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for s in listener.incoming().flatten() {
            // One client's failure (reset, timeout) is its own; the endpoint stays up.
            let _ = serve_one(s, &shared, &lost);
        }
    })?;
    Ok(())
}
