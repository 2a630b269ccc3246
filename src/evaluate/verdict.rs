//! Verdicts and how they roll up: per resource, per control, per requirement.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A verdict. Ordered so that the worst comes first when rolling up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The evidence shows the control does not hold.
    Fail,
    /// The evidence cannot decide (not visible, absent, or the query failed).
    Unknown,
    /// A failing or unknown verdict covered by an unexpired waiver (the underlying verdict is kept beside it).
    Waived,
    /// The evidence shows the control holds.
    Pass,
    /// The control does not apply (e.g. an archived repository).
    NotApplicable,
}

impl Status {
    /// Parses a status returned by control SQL (which may not claim `waived`: only waivers do that).
    pub fn from_query(text: &str) -> Option<Status> {
        Status::parse(text).filter(|status| *status != Status::Waived)
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pass" => Some(Status::Pass),
            "fail" => Some(Status::Fail),
            "unknown" => Some(Status::Unknown),
            "waived" => Some(Status::Waived),
            "not_applicable" => Some(Status::NotApplicable),
            _ => None,
        }
    }

    /// The status as written in the store and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Waived => "waived",
            Status::NotApplicable => "not_applicable",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "Pass",
            Status::Fail => "Fail",
            Status::Unknown => "Unknown",
            Status::Waived => "Waived",
            Status::NotApplicable => "Not applicable",
        }
    }

    /// Rolls up verdicts: fail if any fails; else unknown if any is unknown; else waived if any is waived;
    /// else pass if any passes; else not applicable (also for none at all).
    pub fn roll_up(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().min().unwrap_or(Status::NotApplicable)
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn roll_up_follows_fail_unknown_pass_not_applicable() {
        assert_eq!(Status::roll_up([Pass, Unknown, Fail]), Fail);
        assert_eq!(Status::roll_up([Pass, Unknown, NotApplicable]), Unknown);
        assert_eq!(Status::roll_up([NotApplicable, Pass]), Pass);
        assert_eq!(Status::roll_up([Pass, Waived]), Waived);
        assert_eq!(Status::roll_up([Waived, Unknown]), Unknown);
        assert_eq!(Status::roll_up([NotApplicable]), NotApplicable);
        assert_eq!(Status::roll_up([]), NotApplicable);
    }

    #[test]
    fn statuses_round_trip() {
        for status in [Pass, Fail, Unknown, Waived, NotApplicable] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::from_query("waived"), None, "control SQL cannot waive");
        assert_eq!(Status::parse("PASS"), None);
    }
}
