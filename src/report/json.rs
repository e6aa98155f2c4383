//! JSON lines: one object per connection (docs/json.md), then one summary object.

use std::io::{self, Write};

use crate::emit::summary::Summary;
use crate::record::ConnectionRecord;

pub fn connection(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    line(out, r)
}

pub fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    line(out, s)
}

/// Write `v` as one JSON line with a single `write_all`: serde_json writes token by token,
/// which through a `dyn Write` is a call per token (a fifth of the time of a whole run);
/// into a `Vec` it is plain copying, and the line leaves whole or not at all.
pub fn line<T: serde::Serialize + ?Sized>(out: &mut dyn Write, v: &T) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8 * 1024);
    serde_json::to_writer(&mut buf, v)?;
    buf.push(b'\n');
    out.write_all(&buf)
}
