//! Progress bars on long work, shown only when stderr is a terminal (never in jobs or logs).

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Below this many bytes an input is read too quickly for a spinner to help.
const MIN_BYTES: u64 = 32 << 20;

/// Runs `work` (one long query) while a spinner shows what is read, its size and the time spent; on a terminal,
/// for large inputs only. DuckDB 1.5's Rust binding does not expose the engine's own progress estimate, so this
/// shows that the work goes on, not how far it has come.
pub fn follow_query<T>(input_bytes: u64, message: &str, work: impl FnOnce() -> T) -> T {
    if input_bytes < MIN_BYTES || !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = ProgressBar::new_spinner();
    let style = ProgressStyle::with_template("{spinner} {msg} {elapsed_precise}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(format!("{message} ({} MiB)", input_bytes >> 20));
    bar.enable_steady_tick(Duration::from_millis(200));
    let result = work();
    bar.finish_and_clear();
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
