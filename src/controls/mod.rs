//! The control catalogue: controls (SQL + metadata) and frameworks, loaded from YAML and validated.

mod catalogue;
mod control;
mod framework;

pub use catalogue::Catalogue;
pub use control::{Control, ControlKind, Domain, Param, Severity};
pub use framework::{Framework, Requirement};
