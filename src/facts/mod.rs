//! The facts layer: typed rows that evidence becomes (`rows.rs`) and their writer into the store's fact tables
//! (`write.rs`), shared by the collectors and the file parsers.

mod rows;
mod write;

pub use rows::*;
pub use write::{store_facts, Origin, Stored};
