//! One job at a time per store: an exclusive OS file lock on `<store>.lock`, held for a whole command, recording
//! the holder's PID and command. The OS releases it when the process ends, even on `kill -9`, so a crashed job
//! never blocks the next one; a second job waits (`--wait`) or fails naming the holder.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How often a waiting job retries the lock.
const POLL: Duration = Duration::from_millis(200);

/// The held lock; released on drop.
#[derive(Debug)]
pub struct JobLock {
    file: File,
    path: PathBuf,
}

impl JobLock {
    /// Takes the lock for `store`, waiting up to `wait` for another job to finish.
    pub fn acquire(store: &Path, command: &str, wait: Duration) -> Result<JobLock> {
        let path = lock_path(store);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        let deadline = Instant::now() + wait;
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = holder(&mut file);
                    if Instant::now() >= deadline {
                        return Err(anyhow::anyhow!(
                            "store {} is locked by {holder}; {}",
                            store.display(),
                            if wait.is_zero() {
                                "pass --wait 10m to wait for it".to_string()
                            } else {
                                format!("gave up after waiting {}s", wait.as_secs())
                            }
                        ));
                    }
                    if !announced {
                        tracing::warn!(
                            "store {} is locked by {holder}; waiting up to {}s",
                            store.display(),
                            wait.as_secs()
                        );
                        announced = true;
                    }
                    std::thread::sleep(POLL);
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(error).with_context(|| format!("cannot lock {}", path.display()))
                }
            }
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        write!(
            file,
            "PID {} (pipeproof {command}, since {})",
            std::process::id(),
            crate::time::display_utc(&crate::time::now_utc())
        )?;
        file.flush()?;
        Ok(JobLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// `<store>.lock`, beside the store.
fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "pipeproof.duckdb".into());
    name.push(".lock");
    store.with_file_name(name)
}

/// Who holds the lock, as they wrote it.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another pipeproof process".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_holder_and_a_released_one_can_be_taken() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.duckdb");
        let first = JobLock::acquire(&store, "collect", Duration::ZERO).unwrap();
        let error = JobLock::acquire(&store, "evaluate", Duration::ZERO).unwrap_err().to_string();
        assert!(error.contains(&format!("locked by PID {} (pipeproof collect", std::process::id())), "{error}");
        assert!(error.contains("--wait"), "{error}");
        drop(first);
        JobLock::acquire(&store, "evaluate", Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiting_job_gets_the_lock_when_the_holder_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.duckdb");
        let first = JobLock::acquire(&store, "collect", Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            drop(first);
        });
        let started = Instant::now();
        JobLock::acquire(&store, "evaluate", Duration::from_secs(10)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        releaser.join().unwrap();
    }
}
