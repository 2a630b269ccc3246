//! `pipeproof waivers check`: each waiver judged as an evaluation would.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};

pub fn waivers_check(
    config_path: &Path,
    file: Option<PathBuf>,
    as_of: Option<&str>,
    control_dirs: &[PathBuf],
) -> Result<u8> {
    use crate::evaluate::waivers::{self, WaiverRules, WaiverState, EXPIRING_WITHIN_DAYS};
    let config = Config::load(config_path, false)?;
    let path = match file {
        Some(file) => file,
        None => config.waivers.clone().ok_or_else(|| {
            crate::error::input_error(
                "no waivers file: pass --file, set `waivers:` in the config, or add waivers.yaml beside it",
            )
        })?,
    };
    let catalogue = crate::controls::Catalogue::load(control_dirs)?;
    let rules = WaiverRules {
        max_days: config.waiver_max_days,
        controls: Some(catalogue.controls.iter().map(|control| control.id.clone()).collect()),
    };
    let as_of = match as_of {
        Some(text) => crate::time::parse_as_of(text)?,
        None => crate::time::now_utc(),
    };
    let judged = waivers::load(&path, as_of, &rules)?;
    let mut bad = 0;
    for entry in &judged {
        let (control, resource) =
            entry.waiver.as_ref().map(|w| (w.control.as_str(), w.resource.as_str())).unwrap_or(("?", "?"));
        let label = match entry.state {
            WaiverState::Active => {
                let days_left = entry.expires_at.map(|end| (end - as_of).num_days()).unwrap_or(i64::MAX);
                if days_left <= EXPIRING_WITHIN_DAYS {
                    format!("expiring in {days_left} day(s)")
                } else {
                    "active".to_string()
                }
            }
            WaiverState::NotYetValid => "not yet valid".to_string(),
            WaiverState::Expired => {
                bad += 1;
                "EXPIRED".to_string()
            }
            WaiverState::Malformed => {
                bad += 1;
                "MALFORMED".to_string()
            }
        };
        println!("{:>3}  {label:<22} {control:<8} {resource:<30} {}", entry.entry, entry.note);
    }
    println!("{} waiver(s) in {}: {bad} expired or malformed", judged.len(), path.display());
    Ok(if bad > 0 { EXIT_GATE_FAILED } else { EXIT_OK })
}
