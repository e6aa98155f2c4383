//! JSON lines: one object per connection (docs/json.md), then one summary object.

use std::cell::RefCell;
use std::io::{self, Write};

use crate::emit::summary::Summary;
use crate::record::ConnectionRecord;

pub fn connection(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    line(out, r)
}

pub fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    line(out, s)
}

thread_local! {
    /// The line being written, reused: a record's line is kilobytes, past the allocator's
    /// fast sizes.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Lines longer than this do not keep their buffer.
const KEPT_LINE: usize = 256 * 1024;

/// Write `v` as one JSON line with a single `write_all`: serde_json writes token by token,
/// which through a `dyn Write` is a call per token (a fifth of the time of a whole run);
/// into a `Vec` it is plain copying, and the line leaves whole or not at all.
pub fn line<T: serde::Serialize + ?Sized>(out: &mut dyn Write, v: &T) -> io::Result<()> {
    LINE.with(|cell| {
        // Taken out, not borrowed: `out` might write a line of its own.
        let mut buf = cell.take();
        buf.clear();
        let r = serde_json::to_writer(&mut buf, v)
            .map_err(io::Error::from)
            .and_then(|()| {
                buf.push(b'\n');
                out.write_all(&buf)
            });
        if buf.capacity() <= KEPT_LINE {
            cell.replace(buf);
        }
        r
    })
}
