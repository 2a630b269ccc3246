//! Progress bars on long work, shown only when stderr is a terminal (never in jobs or logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Below this many bytes a file is read too quickly for a bar to help.
const MIN_BYTES: u64 = 32 << 20;

/// A byte-count bar for reading a large file, or a hidden one.
pub fn bytes(total: u64, message: &str) -> ProgressBar {
    if total < MIN_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}
