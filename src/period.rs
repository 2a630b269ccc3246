//! Reporting periods: a quarter, a month, or an explicit range of days (all UTC, inclusive).

use anyhow::Result;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::error::input_error;

/// A closed time range: from the first second of `start`'s day to the last second of the end day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// How the user wrote it, e.g. `2026-Q3`.
    pub label: String,
    /// The first moment in the period.
    pub start: NaiveDateTime,
    /// The last moment in the period.
    pub end: NaiveDateTime,
}

fn day(text: &str, whole: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| input_error(format!("period {whole:?}: {text:?} is not a date like 2026-07-01")))
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

impl Period {
    /// Parses `2026-Q3`, `2026-07` or `2026-07-01..2026-09-30`.
    pub fn parse(text: &str) -> Result<Period> {
        let text = text.trim();
        let invalid = || {
            input_error(format!(
                "invalid period {text:?}: expected a quarter (2026-Q3), a month (2026-07) or a range (2026-07-01..2026-09-30)"
            ))
        };
        let (first, last) = if let Some((from, to)) = text.split_once("..") {
            let (from, to) = (day(from, text)?, day(to, text)?);
            if to < from {
                return Err(input_error(format!("period {text:?} ends before it starts")));
            }
            (from, to)
        } else if let Some((year, quarter)) = text.split_once("-Q").or_else(|| text.split_once("-q")) {
            let year: i32 = year.parse().map_err(|_| invalid())?;
            let quarter: u32 = quarter.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(invalid)?;
            let first = NaiveDate::from_ymd_opt(year, quarter * 3 - 2, 1).ok_or_else(invalid)?;
            (first, last_day_of_month(year, quarter * 3).ok_or_else(invalid)?)
        } else {
            let (year, month) = text.split_once('-').ok_or_else(invalid)?;
            let year: i32 = year.parse().map_err(|_| invalid())?;
            let month: u32 = month.parse().map_err(|_| invalid())?;
            let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(invalid)?;
            (first, last_day_of_month(first.year(), first.month()).ok_or_else(invalid)?)
        };
        Ok(Period {
            label: text.to_string(),
            start: first.and_hms_opt(0, 0, 0).expect("midnight"),
            end: last.and_hms_opt(23, 59, 59).expect("end of day"),
        })
    }

    /// The calendar quarter a moment falls in.
    pub fn quarter_of(moment: NaiveDateTime) -> Period {
        let quarter = (moment.month() - 1) / 3 + 1;
        Period::parse(&format!("{}-Q{quarter}", moment.year())).expect("a quarter of a valid date")
    }

    /// Whole days from the period's start to its end (92 for a quarter of 92 days).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// The period for people: `2026-Q3 (2026-07-01 to 2026-09-30, UTC)`.
    pub fn describe(&self) -> String {
        format!("{} ({} to {}, UTC)", self.label, self.start.format("%Y-%m-%d"), self.end.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_months_and_ranges() {
        let q3 = Period::parse("2026-Q3").unwrap();
        assert_eq!(q3.describe(), "2026-Q3 (2026-07-01 to 2026-09-30, UTC)");
        assert_eq!(q3.end.format("%H:%M:%S").to_string(), "23:59:59");
        assert_eq!(Period::parse("2026-Q4").unwrap().end.format("%Y-%m-%d").to_string(), "2026-12-31");
        assert_eq!(Period::parse("2028-02").unwrap().end.format("%Y-%m-%d").to_string(), "2028-02-29");
        let moment = crate::time::parse_as_of("2026-11-26T10:00:00Z").unwrap();
        assert_eq!(Period::quarter_of(moment), Period::parse("2026-Q4").unwrap());
        assert_eq!(Period::parse("2026-Q4").unwrap().days(), 92);
        let range = Period::parse("2026-07-15..2026-08-14").unwrap();
        assert_eq!(range.start.format("%Y-%m-%d").to_string(), "2026-07-15");
    }

    #[test]
    fn nonsense_is_an_input_error_that_shows_the_forms() {
        for bad in ["2026-Q5", "2026-13", "Q3", "2026-09-30..2026-07-01", "2026-07-01..soon"] {
            let error = Period::parse(bad).unwrap_err();
            assert_eq!(crate::error::exit_code_for(&error), crate::error::EXIT_INPUT, "{bad}");
        }
        assert!(Period::parse("2026-Q5").unwrap_err().to_string().contains("2026-Q3"));
    }
}
