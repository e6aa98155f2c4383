//! Packet timestamps. All time in rdpscope comes from the capture, never from the
//! analysis machine's clock, so certificates are judged at capture time.

use time::macros::format_description;
use time::OffsetDateTime;

/// Nanoseconds since the Unix epoch, as recorded in the capture.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    pub fn from_parts(secs: i64, nanos: i64) -> Ts {
        Ts(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// Milliseconds from `earlier` to `self` (negative if the capture goes backwards).
    pub fn ms_since(self, earlier: Ts) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1e6
    }

    pub fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2011-02-12T09:31:00.123456Z`: the one
    /// timestamp format of every output.
    pub fn rfc3339(self) -> String {
        self.datetime()
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .unwrap_or_default()
    }

    /// Second-precision UTC for people, `2011-02-12 09:31:00 UTC` (certificate dates).
    pub fn readable(self) -> String {
        self.datetime()
            .format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
            .unwrap_or_default()
    }

    /// Second-precision UTC without separators, `20110212T093100Z`, for file names.
    pub fn compact(self) -> String {
        self.datetime()
            .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
            .unwrap_or_default()
    }

    /// Time of day with milliseconds, `09:31:00.123`, for tables.
    pub fn clock(self) -> String {
        self.datetime()
            .format(format_description!("[hour]:[minute]:[second].[subsecond digits:3]"))
            .unwrap_or_default()
    }
}

/// An RFC 3339 timestamp as [`Ts::rfc3339`] writes it, shown as [`Ts::readable`] does
/// (records keep the RFC 3339 form for JSON); anything else is returned as it is.
pub fn readable_rfc3339(s: &str) -> String {
    match (s.get(..10), s.get(10..11), s.get(11..19)) {
        (Some(day), Some("T"), Some(time)) => format!("{day} {time} UTC"),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(
            Ts::from_parts(1_297_503_060, 123_456_789).rfc3339(),
            "2011-02-12T09:31:00.123456Z"
        );
        assert_eq!(Ts::from_parts(1_297_503_060, 123_456_789).clock(), "09:31:00.123");
        assert_eq!(Ts::from_parts(-1, 0).rfc3339(), "1969-12-31T23:59:59.000000Z");
        assert_eq!(Ts::from_parts(10, 500_000).ms_since(Ts::from_parts(10, 0)), 0.5);
        let t = Ts::from_parts(1_297_503_060, 123_456_789);
        assert_eq!(t.readable(), "2011-02-12 09:31:00 UTC");
        assert_eq!(readable_rfc3339(&t.rfc3339()), "2011-02-12 09:31:00 UTC");
        assert_eq!(readable_rfc3339("garbage"), "garbage");
        assert_eq!(t.compact(), "20110212T093100Z");
    }
}
