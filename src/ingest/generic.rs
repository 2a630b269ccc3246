//! Generic JSON Lines or CSV logs, read into `audit_events` through a small mapping file that says which field is
//! the time, the actor, the action and so on (`pipeproof schema log-mapping` prints its JSON Schema).

use std::path::Path;

use anyhow::{Context, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{parse_lines, time_of};
use crate::error::input_error;
use crate::facts::{AuditEvent, Facts};

/// How to read a log whose format pipeproof does not know.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogMapping {
    /// The name recorded as the events' source, e.g. `jenkins` or `argo-workflows`.
    pub source: String,
    /// How the log is written.
    #[serde(default)]
    pub format: LogFormat,
    /// Which field holds what; nested JSON fields are written with dots (`user.name`).
    pub fields: FieldMap,
}

/// The container format of a generic log.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// A CSV file with a header row.
    Csv,
}

/// Field names for each column of `audit_events`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The event time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds or milliseconds.
    pub time: String,
    /// What was done.
    pub action: String,
    /// Who did it.
    #[serde(default)]
    pub actor: Option<String>,
    /// What it was done to.
    #[serde(default)]
    pub target: Option<String>,
    /// From which address.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// How it ended.
    #[serde(default)]
    pub outcome: Option<String>,
    /// A unique event id; without one, a hash of the record identifies it.
    #[serde(default)]
    pub event_id: Option<String>,
}

impl LogMapping {
    /// Reads a mapping file (YAML or JSON); errors name the file and the problem.
    pub fn load(path: &Path) -> Result<LogMapping> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read mapping {}", path.display()))?;
        serde_saphyr::from_str(&text).map_err(|error| {
            input_error(format!(
                "{}: {error}: expected a log mapping (see `pipeproof schema log-mapping`)",
                path.display()
            ))
        })
    }
}

fn field(record: &Value, path: &str) -> Option<String> {
    let pointer = format!("/{}", path.replace('~', "~0").replace('/', "~1").replace('.', "/"));
    match record.get(path).or_else(|| record.pointer(&pointer))? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Reads every record of the log through the mapping.
pub fn parse(bytes: &[u8], origin: &str, mapping: &LogMapping) -> Result<Facts> {
    let mut facts =
        Facts::new("generic-log", format!("generic-{}", serde_json::to_value(mapping.format)?.as_str().unwrap_or("")));
    let records: Vec<(usize, Value, Vec<u8>)> = match mapping.format {
        LogFormat::Jsonl => {
            let raw: Vec<&[u8]> = super::json::without_bom(bytes).split(|b| *b == b'\n').collect();
            parse_lines(bytes, origin, "one JSON object per line")?
                .into_iter()
                .map(|(line, value)| (line, value, raw[line - 1].to_vec()))
                .collect()
        }
        LogFormat::Csv => super::csv_records::read(bytes, origin)?.1,
    };
    let fields = &mapping.fields;
    for (line, record, raw) in records {
        let missing = |name: &str, key: &str| {
            input_error(format!("{origin}: line {line}: expected field {key:?} (the mapping's {name}) in the record"))
        };
        let time_text = field(&record, &fields.time).ok_or_else(|| missing("time", &fields.time))?;
        let event_time = time_of(&record.pointer(&format!("/{}", fields.time.replace('.', "/"))).cloned().unwrap_or(Value::String(time_text.clone())))
            .or_else(|| time_of(&Value::String(time_text.clone())))
            .ok_or_else(|| {
                input_error(format!(
                    "{origin}: line {line}: field {:?} is {time_text:?}: expected a time (RFC 3339, YYYY-MM-DD HH:MM:SS or epoch)",
                    fields.time
                ))
            })?;
        let optional = |name: &Option<String>| name.as_deref().and_then(|name| field(&record, name));
        facts.audit_events.push(AuditEvent {
            source: mapping.source.clone(),
            event_time: Some(event_time),
            actor: optional(&fields.actor),
            action: field(&record, &fields.action).ok_or_else(|| missing("action", &fields.action))?,
            target: optional(&fields.target),
            source_ip: optional(&fields.source_ip),
            outcome: optional(&fields.outcome),
            event_key: optional(&fields.event_id).unwrap_or_else(|| crate::store::sha256_hex(&raw)),
            line: Some(line as i64),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(format: LogFormat) -> LogMapping {
        LogMapping {
            source: "jenkins".into(),
            format,
            fields: FieldMap {
                time: "ts".into(),
                action: "event".into(),
                actor: Some("user.name".into()),
                target: Some("job".into()),
                source_ip: None,
                outcome: Some("result".into()),
                event_id: Some("id".into()),
            },
        }
    }

    #[test]
    fn json_lines_map_nested_fields_and_epoch_times() {
        let log = b"{\"ts\": 1767225600, \"event\": \"build.start\", \"user\": {\"name\": \"ann\"}, \"job\": \"deploy\", \"id\": 1}\n\n";
        let facts = parse(log, "j.jsonl", &mapping(LogFormat::Jsonl)).unwrap();
        let event = &facts.audit_events[0];
        assert_eq!(event.actor.as_deref(), Some("ann"));
        assert_eq!(event.event_key, "1");
        assert_eq!(event.event_time.unwrap().to_string(), "2026-01-01 00:00:00");
    }

    #[test]
    fn csv_logs_and_missing_fields_name_the_line() {
        let log = b"ts,event,result\n2026-01-01T00:00:00Z,deploy,ok\n2026-01-02T00:00:00Z,,ok\n";
        let error = parse(log, "j.csv", &mapping(LogFormat::Csv)).unwrap_err().to_string();
        assert!(error.starts_with("j.csv: line 3: expected field \"event\""), "{error}");
    }

    #[test]
    fn unknown_mapping_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, "source: x\nfields: {time: t, action: a, colour: blue}\n").unwrap();
        let error = LogMapping::load(&path).unwrap_err().to_string();
        assert!(error.contains("colour"), "{error}");
    }
}
