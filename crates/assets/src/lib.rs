//! The files pipeproof compiles into its binary: the built-in controls, report templates and demo fixtures. They
//! live in a crate of their own so that editing one recompiles this small crate, not the whole of pipeproof's.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
