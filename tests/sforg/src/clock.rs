//! The org's clock. Every time the server reads — token expiry, CreatedDate, the search
//! index delay, `TODAY` in SOQL, the daily API count — comes from here, so tests move
//! time forward instead of sleeping. It never sleeps itself; latency faults use real time.

use std::time::Duration;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// Where the clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStart {
    /// Follows the machine's clock (plus whatever tests advance it by).
    System,
    /// Frozen at this instant until advanced: fully deterministic runs.
    Fixed(OffsetDateTime),
}

#[derive(Debug, Clone)]
pub(crate) struct Clock {
    frozen: Option<OffsetDateTime>,
    skew: Duration,
}

impl Clock {
    pub(crate) fn new(start: ClockStart) -> Self {
        let frozen = match start {
            ClockStart::System => None,
            ClockStart::Fixed(at) => Some(at),
        };
        Clock { frozen, skew: Duration::ZERO }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        // Millisecond precision, as Salesforce stores datetimes.
        let base = self.frozen.unwrap_or_else(OffsetDateTime::now_utc) + self.skew;
        let ms = base.unix_timestamp_nanos() / 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).unwrap_or(base)
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        self.skew += by;
    }
}

/// Salesforce's datetime wire format: `2026-11-21T08:00:00.000+0000`.
pub(crate) fn sf_datetime(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

pub(crate) fn sf_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Reads the datetime forms Salesforce accepts in JSON bodies and SOQL:
/// `2026-11-21T08:00:00Z`, `…00.000Z`, `…00+01:00`, `…00.000+0000`.
pub(crate) fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // `+0000` (no colon) is what Salesforce itself writes.
    let bytes = s.as_bytes();
    if bytes.len() > 5 {
        let (head, tail) = s.split_at(s.len() - 5);
        if (tail.starts_with('+') || tail.starts_with('-')) && tail[1..].bytes().all(|b| b.is_ascii_digit()) {
            let fixed = format!("{head}{}:{}", &tail[..3], &tail[3..]);
            return OffsetDateTime::parse(&fixed, &Rfc3339).ok();
        }
    }
    None
}

pub(crate) fn parse_date(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_datetimes_round_trip_through_the_wire_format() {
        let t = parse_datetime("2026-11-21T08:00:00.123+0000").expect("Salesforce's own format must parse");
        assert_eq!(sf_datetime(t), "2026-11-21T08:00:00.123+0000");
        let z = parse_datetime("2026-11-21T08:00:00Z").expect("RFC 3339 with Z must parse");
        assert_eq!(sf_datetime(z), "2026-11-21T08:00:00.000+0000");
    }

    #[test]
    fn a_fixed_clock_moves_only_when_advanced() {
        let start = parse_datetime("2026-01-01T00:00:00Z").unwrap();
        let mut c = Clock::new(ClockStart::Fixed(start));
        assert_eq!(c.now(), start);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now(), start + Duration::from_secs(90));
    }
}
