//! Live capture from an interface: libpcap with a kernel ring of a few MB (TPACKET_V3:
//! variable-size packets packed into blocks that the kernel hands over when full or after
//! BLOCK_TIMEOUT_MS) and the BPF filter installed in the kernel. A capture thread copies
//! packets into batches for the analysis thread; it never blocks on it (a full channel is
//! counted as drops), and reads libpcap's kernel drop counters every second.
//!
//! Not immediate mode: there libpcap falls back to TPACKET_V2, whose ring slots are sized
//! for the largest packet the interface may deliver (64 KiB with segmentation offload), so
//! an 8 MB ring held about 128 packets and overflowed after a few ms of scheduling delay.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use pcap::{Active, Capture, Precision, Savefile};

use super::{send_batch, CaptureCounters, CaptureMsg, Filter, Pool};
use crate::decode::LinkType;
use crate::ts::Ts;

/// Longest a packet waits in a ring block before the kernel hands the block over: the
/// live view's latency at most (it refreshes every 200 ms).
const BLOCK_TIMEOUT_MS: i32 = 50;

/// Longest wait for the socket to become readable, so stop requests are seen promptly.
const IDLE_MS: u16 = 50;

/// Block until libpcap's socket has a block of packets ready (or IDLE_MS passed): no busy
/// loop, and one wake-up per block however fast the link.
fn wait_readable(cap: &Capture<Active>) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(cap.as_fd(), PollFlags::POLLIN)];
    let _ = poll(&mut fds, PollTimeout::from(IDLE_MS));
}

/// Kernel buffer for the capture (libpcap's default is 2 MB).
const KERNEL_BUFFER: i32 = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot capture on {iface}: permission denied. Run as root, or grant the binary capture rights once: sudo setcap cap_net_raw,cap_net_admin+eip {exe}")]
    Permission { iface: String, exe: String },
    #[error("cannot capture on {iface}: {reason}. `rdpscope interfaces` lists the interfaces")]
    Open { iface: String, reason: String },
    #[error("{iface}: unsupported link type {dlt}")]
    LinkType { iface: String, dlt: i32 },
    #[error("{iface}: bad capture filter {filter:?}: {reason}")]
    Filter {
        iface: String,
        filter: String,
        reason: String,
    },
    #[error("{path}: cannot write: {reason}")]
    Write { path: String, reason: String },
}

pub struct Live {
    cap: Capture<Active>,
    link: LinkType,
    write: Option<Savefile>,
    written: Written,
}

/// What was handed to `--write`'s pcap, to check it reached the disk: libpcap's writer drops
/// a failed write (a full disk) without a word, so the file's size is compared with it.
struct Written {
    path: Option<std::path::PathBuf>,
    bytes: u64,
}

impl Written {
    /// Whether the file holds less than was written (checked after a flush).
    fn short(&self) -> bool {
        self.path
            .as_deref()
            .is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() < self.bytes))
    }
}

/// Open `iface` and install the filter. Needs CAP_NET_RAW (and CAP_NET_ADMIN for some
/// interfaces); the caller drops capabilities once this returns.
pub fn open(iface: &str, filter: &Filter, write: Option<&std::path::Path>) -> Result<Live, LiveError> {
    let write_path = write;
    let err = |e: pcap::Error| {
        let reason = e.to_string();
        if reason.contains("ermission") || reason.contains("not permitted") {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "rdpscope".into());
            LiveError::Permission {
                iface: iface.to_string(),
                exe,
            }
        } else {
            LiveError::Open {
                iface: iface.to_string(),
                reason,
            }
        }
    };
    let mut cap = Capture::from_device(iface)
        .map_err(err)?
        .promisc(true)
        .snaplen(65535)
        .buffer_size(KERNEL_BUFFER)
        .timeout(BLOCK_TIMEOUT_MS)
        .precision(Precision::Nano)
        .open()
        .map_err(err)?
        // Read non-blocking and poll the socket ourselves, so a stop request is seen within
        // IDLE_MS whatever libpcap's timeout does.
        .setnonblock()
        .map_err(err)?;
    let dlt = cap.get_datalink().0;
    let link = LinkType::from_dlt(dlt).ok_or(LiveError::LinkType {
        iface: iface.to_string(),
        dlt,
    })?;
    let expr = filter.expression(link);
    cap.filter(&expr, true).map_err(|e| LiveError::Filter {
        iface: iface.to_string(),
        filter: expr.clone(),
        reason: e.to_string(),
    })?;
    let write = match write {
        Some(p) => Some(cap.savefile(p).map_err(|e| LiveError::Write {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?),
        None => None,
    };
    Ok(Live {
        cap,
        link,
        write,
        written: Written {
            path: write_path.map(std::path::Path::to_path_buf),
            // The pcap file header.
            bytes: 24,
        },
    })
}

/// The capture loop; runs until `counters.stop` is set or the interface fails.
pub fn run(mut live: Live, tx: Sender<CaptureMsg>, pool: Pool, counters: Arc<CaptureCounters>) {
    let mut batch = pool.take();
    let mut number = 0u64;
    let mut last_flush = Instant::now();
    let mut last_stats = Instant::now();
    let end = loop {
        if counters.stop_requested() {
            break None;
        }
        match live.cap.next_packet() {
            Ok(p) => {
                number += 1;
                if let Some(w) = live.write.as_mut() {
                    w.write(&p);
                    live.written.bytes += 16 + u64::from(p.header.caplen);
                }
                counters.frames.fetch_add(1, Ordering::Relaxed);
                counters.bytes.fetch_add(u64::from(p.header.len), Ordering::Relaxed);
                let ts = Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
                batch.push(number, ts, live.link, p.data, p.header.len);
                if batch.is_full() {
                    send_batch(&tx, &mut batch, &pool, &counters);
                    last_flush = Instant::now();
                }
            }
            // Nothing ready: wait for the next block.
            Err(pcap::Error::TimeoutExpired) => wait_readable(&live.cap),
            Err(e) => break Some(e.to_string()),
        }
        // Small batches still go out promptly so the view stays live.
        if last_flush.elapsed() >= Duration::from_millis(50) {
            send_batch(&tx, &mut batch, &pool, &counters);
            last_flush = Instant::now();
        }
        if last_stats.elapsed() >= Duration::from_secs(1) {
            if let Ok(s) = live.cap.stats() {
                counters.kernel_dropped.store(u64::from(s.dropped), Ordering::Relaxed);
                counters.if_dropped.store(u64::from(s.if_dropped), Ordering::Relaxed);
            }
            if let Some(w) = live.write.as_mut() {
                if w.flush().is_err() || live.written.short() {
                    counters.write_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            last_stats = Instant::now();
        }
    };
    send_batch(&tx, &mut batch, &pool, &counters);
    if let Some(w) = live.write.as_mut() {
        if w.flush().is_err() || live.written.short() {
            counters.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    // The end marker must arrive: block for it.
    let _ = tx.send(CaptureMsg::End(end));
}

/// Started as root with `--user NAME`: become that user (its group, no supplementary
/// groups) once the capture is open. Switching uid away from 0 also clears the capabilities.
pub fn switch_user(name: &str) -> Result<(), String> {
    use nix::unistd::{setgid, setgroups, setuid, User};
    let user = User::from_name(name)
        .map_err(|e| format!("cannot look up user {name}: {e}"))?
        .ok_or_else(|| format!("no such user: {name}"))?;
    setgroups(&[user.gid]).map_err(|e| format!("cannot drop supplementary groups: {e}"))?;
    setgid(user.gid).map_err(|e| format!("cannot switch to group {}: {e}", user.gid))?;
    setuid(user.uid).map_err(|e| format!("cannot switch to user {name}: {e}"))?;
    Ok(())
}

/// Give up the capabilities that opening the capture needed. Failing to drop them is not
/// fatal (nothing to drop when run unprivileged), but it is reported.
/// Empty the capability bounding set, so nothing this process runs can regain a capability.
/// It needs CAP_SETPCAP, so it comes before a user switch or the drop; without CAP_SETPCAP (a
/// setcap'd binary) it cannot be cleared, and `no_new_privs` covers the same ground.
pub fn clear_bounding_set() {
    let _ = caps::clear(None, caps::CapSet::Bounding);
}

pub fn drop_privileges() -> Result<(), String> {
    use caps::CapSet;
    clear_bounding_set();
    for set in [
        CapSet::Effective,
        CapSet::Inheritable,
        CapSet::Ambient,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| format!("cannot drop capabilities ({set:?}): {e}"))?;
    }
    // Nothing this process runs may gain privileges (setuid binaries, file capabilities).
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("cannot set no_new_privs: {e}"))?;
    Ok(())
}

/// `rdpscope interfaces`: name, description and addresses of each capture device.
pub fn list() -> Result<Vec<(String, String)>, String> {
    let devs = pcap::Device::list().map_err(|e| e.to_string())?;
    Ok(devs
        .into_iter()
        .map(|d| {
            let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
            let desc = d.desc.unwrap_or_default();
            (
                d.name,
                format!("{desc}{}{}", if desc.is_empty() { "" } else { "  " }, addrs.join(" ")),
            )
        })
        .collect())
}
