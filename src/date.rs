//! Calendar days: deadlines, expiry dates and the run's clock (`--now`). Railyard reasons in
//! whole UTC days, as deadlines are written in `guardrail.toml` and `exceptions.toml`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::{macros::format_description, Date, Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

/// A text that is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: expected YYYY-MM-DD")]
pub struct BadDay(pub String);

impl Day {
    pub fn today() -> Day {
        Day(OffsetDateTime::now_utc().date())
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Day, BadDay> {
        Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
            .map(Day)
            .map_err(|_| BadDay(s.to_string()))
    }

    pub fn plus_days(self, days: i64) -> Day {
        Day(self.0.saturating_add(Duration::days(days)))
    }

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: Day) -> i64 {
        (other.0 - self.0).whole_days()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month() as u8,
            self.0.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    /// Accepts a TOML local date (`expires = 2027-03-01`) or a string (`"2027-03-01"`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Toml(toml::value::Datetime),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Toml(dt) => match (dt.date, dt.time) {
                (Some(date), _) => format!("{date}"),
                _ => return Err(serde::de::Error::custom("expected a date (YYYY-MM-DD)")),
            },
            Raw::Text(s) => s,
        };
        Day::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_counts_days() {
        let a = Day::parse("2026-11-01").unwrap();
        let b = Day::parse("2026-12-01").unwrap();
        assert_eq!(a.days_until(b), 30);
        assert_eq!(a.plus_days(30), b);
        assert_eq!(b.to_string(), "2026-12-01");
        assert!(Day::parse("2026-13-01").is_err());
    }

    #[test]
    fn reads_toml_dates_and_strings() {
        #[derive(Deserialize)]
        struct T {
            a: Day,
            b: Day,
        }
        let t: T = toml::from_str("a = 2027-03-01\nb = \"2027-03-02\"").unwrap();
        assert_eq!(t.a.to_string(), "2027-03-01");
        assert_eq!(t.b.to_string(), "2027-03-02");
    }
}
