//! The control catalogue: controls (SQL + metadata) and frameworks, loaded from YAML and validated.

mod catalogue;
mod control;
mod crosswalk;
mod framework;
mod test_case;

pub use catalogue::Catalogue;
pub use control::{Control, ControlKind, Domain, Forge, Param, Severity, Stricter};
pub use crosswalk::{Crosswalk, CrosswalkEdge, Relationship};
pub use framework::{Framework, Level, Requirement, SummaryKind};
pub use test_case::{is_test_file, ControlTests, Expectation, TestCase};
