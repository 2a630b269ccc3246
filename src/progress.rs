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

/// A bar for an API collection, on a terminal only: requests planned and done, requests sent, and any rate-limit
/// wait with the time it ends.
#[derive(Default)]
pub struct Collection {
    bar: Option<ProgressBar>,
    requests: std::sync::atomic::AtomicU64,
}

impl Collection {
    /// A bar titled `message` when stderr is a terminal; otherwise one that shows nothing.
    pub fn on_terminal(message: &str) -> Collection {
        if !std::io::stderr().is_terminal() {
            return Collection::default();
        }
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} endpoints {msg} {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Collection { bar: Some(bar), requests: Default::default() }
    }

    /// More endpoints to read.
    pub fn plan(&self, endpoints: usize) {
        if let Some(bar) = &self.bar {
            bar.inc_length(endpoints as u64);
        }
    }

    /// One endpoint read (every page).
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// One request sent.
    pub fn request(&self) {
        let sent = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("({sent} requests)"));
        }
    }

    /// Waiting before the next request (a rate limit or a retry); says until when.
    pub fn waiting(&self, why: &str, wait: Duration) {
        if let Some(bar) = &self.bar {
            let until = chrono::Utc::now() + chrono::Duration::milliseconds(wait.as_millis() as i64);
            bar.set_message(format!(
                "({} requests; {why}: waiting until {} UTC)",
                self.requests.load(Ordering::Relaxed),
                until.format("%H:%M:%S")
            ));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
