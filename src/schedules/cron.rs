//! A schedule's cron expression and timezone, read by the croner crate. Cron has 5 fields
//! (minute hour day-of-month month day-of-week) or 6 with seconds first; daylight-saving gaps
//! and repeats follow croner (a fixed time inside a gap fires right after it, a fixed time in a
//! repeated hour fires once, at its first pass).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Fails with an ArgumentError naming the expression or the timezone.
    pub fn parse(expression: &str, timezone: &str) -> Result<Self> {
        let fields = expression.split_whitespace().count();
        if fields != 5 && fields != 6 {
            return Err(Error::InvalidArgument(format!(
                "cron {expression:?} has {fields} fields; it takes 5 (minute hour day month weekday) or 6 (seconds first)"
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(expression)
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "cron {expression:?} is not a valid cron expression: {e}"
                ))
            })?;
        let tz: Tz = timezone.parse().map_err(|_| {
            Error::InvalidArgument(format!(
                "timezone {timezone:?} is not a known IANA timezone (e.g. \"UTC\", \"Europe/Berlin\")"
            ))
        })?;
        Ok(CronSchedule { cron, tz })
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.tz), false)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "cron {}: no next fire time: {e}",
                    self.cron.pattern
                ))
            })
    }

    /// The next `n` fire times after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Result<Vec<DateTime<Utc>>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        for _ in 0..n {
            at = self.next_after(at)?;
            out.push(at);
        }
        Ok(out)
    }

    /// The fire times from `next` (the schedule's next fire time) up to `now`, both included,
    /// of which at most the latest `keep` are returned, oldest first (the older ones were
    /// missed while nothing ran and are skipped).
    pub fn due(
        &self,
        next: DateTime<Utc>,
        now: DateTime<Utc>,
        keep: usize,
    ) -> Result<Vec<DateTime<Utc>>> {
        let mut out = Vec::new();
        if next > now {
            return Ok(out);
        }
        let mut at = now.with_timezone(&self.tz);
        let mut inclusive = true;
        while out.len() < keep {
            let Ok(found) = self.cron.find_previous_occurrence(&at, inclusive) else {
                break;
            };
            let utc = found.with_timezone(&Utc);
            if utc < next {
                break;
            }
            out.push(utc);
            at = found;
            inclusive = false;
        }
        if out.is_empty() {
            // `next` itself is due even if the cron no longer matches it (a schedule whose
            // expression changed keeps its next fire time until it fires).
            out.push(next);
        }
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_fields_or_six_with_seconds_first() {
        let five = CronSchedule::parse("0 2 * * *", "UTC").unwrap();
        assert_eq!(
            five.next_after(utc("2026-01-01T00:00:00Z")).unwrap(),
            utc("2026-01-01T02:00:00Z")
        );
        let six = CronSchedule::parse("30 0 2 * * *", "UTC").unwrap();
        assert_eq!(
            six.next_after(utc("2026-01-01T00:00:00Z")).unwrap(),
            utc("2026-01-01T02:00:30Z")
        );
    }

    #[test]
    fn bad_expressions_and_timezones_are_named() {
        let err = CronSchedule::parse("0 2 * *", "UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 4 fields"), "{err}");
        let err = CronSchedule::parse("0 0 2 * * * 2030", "UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 7 fields"), "{err}");
        let err = CronSchedule::parse("61 2 * * *", "UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid cron expression"), "{err}");
        let err = CronSchedule::parse("0 2 * * *", "Mars/Olympus")
            .unwrap_err()
            .to_string();
        assert!(err.contains("timezone \"Mars/Olympus\""), "{err}");
    }

    #[test]
    fn the_timezone_decides_the_instant() {
        let s = CronSchedule::parse("0 2 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            s.next_after(utc("2026-01-10T00:00:00Z")).unwrap(),
            utc("2026-01-10T01:00:00Z")
        );
    }

    #[test]
    fn a_fixed_time_in_the_spring_gap_fires_right_after_it() {
        // America/New_York skips 02:00-03:00 on 2026-03-08.
        let s = CronSchedule::parse("30 2 * * *", "America/New_York").unwrap();
        let fire = s.next_after(utc("2026-03-08T05:00:00Z")).unwrap();
        let local = fire.with_timezone(&chrono_tz::America::New_York);
        assert_eq!(
            local,
            chrono_tz::America::New_York
                .with_ymd_and_hms(2026, 3, 8, 3, 0, 0)
                .unwrap()
        );
        assert_eq!(s.next_after(fire).unwrap(), utc("2026-03-09T06:30:00Z"));
    }

    #[test]
    fn a_fixed_time_in_the_autumn_repeat_fires_once() {
        // America/New_York runs 01:00-02:00 twice on 2026-11-01 (EDT, then EST).
        let s = CronSchedule::parse("30 1 * * *", "America/New_York").unwrap();
        let first = s.next_after(utc("2026-11-01T04:00:00Z")).unwrap();
        assert_eq!(first, utc("2026-11-01T05:30:00Z"));
        assert_eq!(s.next_after(first).unwrap(), utc("2026-11-02T06:30:00Z"));
    }

    #[test]
    fn after_downtime_only_the_latest_missed_fires_are_due() {
        let s = CronSchedule::parse("0 * * * *", "UTC").unwrap();
        let next = utc("2026-01-01T00:00:00Z");
        let now = utc("2026-01-01T05:30:00Z");
        assert_eq!(
            s.due(next, now, 1).unwrap(),
            vec![utc("2026-01-01T05:00:00Z")]
        );
        assert_eq!(
            s.due(next, now, 2).unwrap(),
            vec![utc("2026-01-01T04:00:00Z"), utc("2026-01-01T05:00:00Z")]
        );
        assert_eq!(s.due(next, now, 100).unwrap().len(), 6);
        assert!(s
            .due(utc("2026-01-01T06:00:00Z"), now, 1)
            .unwrap()
            .is_empty());
        assert_eq!(s.due(now, now, 1).unwrap(), vec![now]);
    }
}
