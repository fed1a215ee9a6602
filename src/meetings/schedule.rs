//! Wall-clock times in a named zone: what "10:00 on 28 March in Paris" is as an
//! instant, including the hour that does not exist when clocks go forward and the one
//! that happens twice when they go back.

use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset as _, TimeZone as _};
use chrono_tz::Tz;

/// A local time as typed: `2027-03-28T10:00` (or with a space, seconds optional).
pub fn parse_local(value: &str) -> Option<NaiveDateTime> {
    let v = value.trim().replace(' ', "T");
    let (date, time) = v.split_once('T')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M").or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S")).ok()?;
    Some(date.and_time(time))
}

/// What a local time is in `zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// One instant (unix seconds).
    Exact(i64),
    /// The clocks went back: the time happened twice; the first is taken (`later` is
    /// the second), as calendars do.
    Twice { first: i64, later: i64 },
    /// The clocks went forward over it: it never happens. `next` is the first valid
    /// local time after the gap, offered instead.
    Skipped { next: NaiveDateTime },
}

pub fn resolve(local: NaiveDateTime, zone: Tz) -> Resolved {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Resolved::Exact(t.timestamp()),
        LocalResult::Ambiguous(a, b) => {
            let (first, later) = if a.timestamp() <= b.timestamp() { (a, b) } else { (b, a) };
            Resolved::Twice { first: first.timestamp(), later: later.timestamp() }
        }
        LocalResult::None => {
            // Gaps are whole minutes long (at most a day, in history); walk to the end.
            let mut next = local;
            for _ in 0..(24 * 60) {
                next += chrono::Duration::minutes(1);
                if !matches!(zone.from_local_datetime(&next), LocalResult::None) {
                    break;
                }
            }
            Resolved::Skipped { next }
        }
    }
}

/// The UTC offset of `zone` at `unix` seconds, in seconds east of UTC.
pub fn offset_secs(zone: Tz, unix: i64) -> i32 {
    let utc = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().naive_utc();
    zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

/// `unix` as a wall-clock time in `zone`.
pub fn local_time(zone: Tz, unix: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&zone).naive_local()
}

/// One change of offset: at `at` (unix seconds) the zone went from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: i64,
    pub from: i32,
    pub to: i32,
    pub name: String,
}

/// The offset changes of `zone` in `[from, to)`, found by probing hourly and then
/// by the minute (chrono-tz exposes offsets, not its transition table).
pub fn transitions(zone: Tz, from: i64, to: i64) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut t = from;
    let mut offset = offset_secs(zone, t);
    while t < to {
        let next = (t + 3_600).min(to);
        let o = offset_secs(zone, next);
        if o != offset {
            // The change is within this hour: find its minute.
            let mut lo = t;
            let mut hi = next;
            while hi - lo > 60 {
                let mid = lo + (hi - lo) / 120 * 60;
                let mid = if mid <= lo { lo + 60 } else { mid };
                if offset_secs(zone, mid) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(Transition { at: hi, from: offset, to: o, name: abbreviation(zone, hi) });
            offset = o;
        }
        t = next;
    }
    out
}

/// The zone's short name at an instant (`CET`, `EDT`, `JST`), or its offset (`+0530`)
/// when the database has only a number.
pub fn abbreviation(zone: Tz, unix: i64) -> String {
    let utc = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().naive_utc();
    let offset = zone.offset_from_utc_datetime(&utc);
    match chrono_tz::OffsetName::abbreviation(&offset) {
        Some(name) if name.chars().any(|c| c.is_ascii_alphabetic()) => name.to_string(),
        _ => format_offset(offset.fix().local_minus_utc()),
    }
}

/// `+0100`, `-0430`, as iCalendar writes offsets.
pub fn format_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        parse_local(s).unwrap()
    }

    #[test]
    fn local_times_become_instants_across_dst() {
        let paris = chrono_tz::Europe::Paris;
        // 28 March 2027: Paris goes from +01:00 to +02:00 at 02:00.
        assert_eq!(resolve(at("2027-03-28 10:00"), paris), Resolved::Exact(1_806_220_800));
        assert_eq!(resolve(at("2027-03-28T02:30"), paris), Resolved::Skipped { next: at("2027-03-28 03:00") });
        // 31 October 2027: 02:30 happens at +02:00, then again at +01:00.
        match resolve(at("2027-10-31 02:30"), paris) {
            Resolved::Twice { first, later } => assert_eq!(later - first, 3_600),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_local("2027-02-30 10:00"), None);
        assert_eq!(parse_local("tomorrow"), None);
    }

    #[test]
    fn a_years_transitions_are_found_to_the_minute() {
        let ny = chrono_tz::America::New_York;
        let year = (1_798_761_600, 1_830_297_600); // 2027 in UTC
        let t = transitions(ny, year.0, year.1);
        assert_eq!(t.len(), 2, "{t:?}");
        // 14 March 2027 07:00 UTC (02:00 EST), 7 November 2027 06:00 UTC (02:00 EDT).
        assert_eq!((t[0].at, t[0].from, t[0].to, t[0].name.as_str()), (1_805_007_600, -18_000, -14_400, "EDT"));
        assert_eq!((t[1].at, t[1].to, t[1].name.as_str()), (1_825_567_200, -18_000, "EST"));
        assert!(transitions(chrono_tz::Asia::Tokyo, year.0, year.1).is_empty());
        assert_eq!(abbreviation(chrono_tz::Asia::Kolkata, year.0), "IST");
        assert_eq!(format_offset(19_800), "+0530");
        assert_eq!(format_offset(-12_600), "-0330");
    }
}
