//! Error kinds that decide the process exit code.

use std::fmt;

/// Exit code: everything held.
pub const EXIT_OK: u8 = 0;
/// Exit code: a gate failed (failing controls, regression, verification mismatch).
pub const EXIT_GATE_FAILED: u8 = 1;
/// Exit code: bad usage or bad input (a file, a config, an argument).
pub const EXIT_INPUT: u8 = 2;
/// Exit code: a runtime failure (network, store, I/O).
pub const EXIT_RUNTIME: u8 = 3;

/// An error caused by what the user gave us: a bad file, config or argument (exit code 2).
#[derive(Debug)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Builds an `anyhow::Error` that maps to the input-error exit code.
pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(message.into()))
}

/// Chooses the exit code for an error: input errors anywhere in the chain give 2, the rest 3.
pub fn exit_code_for(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.downcast_ref::<InputError>().is_some()) {
        EXIT_INPUT
    } else {
        EXIT_RUNTIME
    }
}
