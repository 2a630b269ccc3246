//! Progress bars on long work, shown only when stderr is a terminal (never in jobs or logs).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use duckdb::Connection;
use indicatif::{ProgressBar, ProgressStyle};

/// Below this many bytes an input is read too quickly for a bar to help.
const MIN_BYTES: u64 = 32 << 20;

/// Runs `work` (a query on `conn`) while a bar follows DuckDB's own progress estimate; on a terminal, for large
/// inputs only.
pub fn follow_query<T>(conn: &Connection, input_bytes: u64, message: &str, work: impl FnOnce() -> T) -> T {
    if input_bytes < MIN_BYTES || !std::io::stderr().is_terminal() || conn.set_query_progress_tracking(true).is_err() {
        return work();
    }
    let bar = ProgressBar::new(1000);
    let style = ProgressStyle::with_template("{msg} {bar:30} {percent}% {elapsed_precise} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (bar, done, handle) = (bar.clone(), done.clone(), conn.progress_handle());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(percent) = handle.query_progress().percentage() {
                    bar.set_position((percent * 10.0) as u64);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let result = work();
    done.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    bar.finish_and_clear();
    let _ = conn.set_query_progress_tracking(false);
    result
}
