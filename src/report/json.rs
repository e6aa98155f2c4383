//! JSON lines: one object per connection (docs/json.md), then one summary object.

use std::io::{self, Write};

use crate::emit::summary::Summary;
use crate::record::ConnectionRecord;

pub fn connection(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    serde_json::to_writer(&mut *out, r)?;
    out.write_all(b"\n")
}

pub fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s)?;
    out.write_all(b"\n")
}
