//! The OSCAL assessment results validate against NIST's JSON Schema and link every observation to bundled evidence.

use crate::common;

use std::path::Path;

use common::run_demo;

fn validate_against_nist_schema(document: &serde_json::Value) -> Result<(), String> {
    validate_against(document, "oscal_assessment-results_schema_v1.0.6.json")
}

fn validate_against(document: &serde_json::Value, schema_file: &str) -> Result<(), String> {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/oscal").join(schema_file);
    let mut schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    // NIST's draft-07 schema gives twelve definitions both an `$id` anchor and a `$ref`; draft 7 ignores every
    // keyword beside `$ref`, so strict validators cannot find those anchors. Wrapping the `$ref` in `allOf` keeps
    // exactly the constraint the authors meant and makes the anchor visible.
    for definition in schema["definitions"].as_object_mut().unwrap().values_mut() {
        let object = definition.as_object_mut().unwrap();
        if object.contains_key("$id") {
            if let Some(target) = object.remove("$ref") {
                object.insert("allOf".into(), serde_json::json!([{ "$ref": target }]));
            }
        }
    }
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V7);
    compiler.enable_format_assertions();
    compiler.add_resource("urn:oscal", schema).unwrap();
    let index = compiler.compile("urn:oscal", &mut schemas).map_err(|e| format!("{e:#}"))?;
    schemas.validate(document, index).map_err(|e| format!("{e:#}"))
}

#[test]
fn the_demo_assessment_results_validate_against_the_nist_schema() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let text = std::fs::read_to_string(dir.path().join("assessment-results.json")).unwrap();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    validate_against_nist_schema(&document).unwrap();

    let result = &document["assessment-results"]["results"][0];
    let observations = result["observations"].as_array().unwrap();
    let evidence = observations.iter().flat_map(|o| o["relevant-evidence"].as_array().cloned().unwrap_or_default());
    let hrefs: Vec<String> = evidence.map(|e| e["href"].as_str().unwrap().to_string()).collect();
    assert!(!hrefs.is_empty() && hrefs.iter().all(|h| h.starts_with("evidence/")), "{hrefs:?}");
    let findings = result["findings"].as_array().unwrap();
    let states: Vec<&str> = findings.iter().map(|f| f["target"]["status"]["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"satisfied") && states.contains(&"not-satisfied"), "{states:?}");
    assert!(findings.iter().any(|f| f["target"]["target-id"] == "soc2_CC6.1"), "findings are per requirement");
}

#[test]
fn the_demo_plan_of_action_validates_against_the_nist_schema_and_names_waivers_and_requirements() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let out = dir.path().join("poam-only");
    common::report_demo(dir.path(), &["--format", "poam"], &out);
    let text = std::fs::read_to_string(out.join("poam.json")).unwrap();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    validate_against(&document, "oscal_poam_schema_v1.0.6.json").unwrap();
    let poam = &document["plan-of-action-and-milestones"];
    let items = poam["poam-items"].as_array().unwrap();
    let risks = poam["risks"].as_array().unwrap();
    assert_eq!(items.len(), poam["observations"].as_array().unwrap().len(), "one observation per open finding");
    assert!(risks.len() < items.len(), "the findings of a control that stand the same way share a risk");
    let accepted: Vec<&serde_json::Value> = risks.iter().filter(|r| r["status"] == "deviation-approved").collect();
    assert!(!accepted.is_empty(), "the demo's waivers are approved deviations");
    let party = accepted[0]["risk-log"]["entries"][0]["logged-by"][0]["party-uuid"].as_str().unwrap();
    assert!(poam["metadata"]["parties"].as_array().unwrap().iter().any(|p| p["uuid"] == party), "approver is a party");
    let requirement_props = risks
        .iter()
        .flat_map(|i| i["props"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["name"] == "requirement")
        .map(|p| p["value"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(requirement_props.iter().any(|r| r.starts_with("osps_baseline ")), "new frameworks' ids are carried");
    assert!(requirement_props.iter().any(|r| r.starts_with("nist_sp800_53r5 ")));

    let mut broken = document.clone();
    broken["plan-of-action-and-milestones"]["risks"][0]["status"] = "whatever happened".into();
    assert!(validate_against(&broken, "oscal_poam_schema_v1.0.6.json").is_err(), "the schema check can fail");
}

#[test]
fn the_schema_check_catches_a_broken_document() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let text = std::fs::read_to_string(dir.path().join("assessment-results.json")).unwrap();
    let mut document: serde_json::Value = serde_json::from_str(&text).unwrap();
    document["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "maybe".into();
    document["assessment-results"]["results"][0].as_object_mut().unwrap().remove("reviewed-controls");
    let error = validate_against_nist_schema(&document).unwrap_err();
    assert!(error.contains("reviewed-controls") || error.contains("maybe"), "{error}");
}

#[test]
fn report_writes_oscal_on_request() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let out = dir.path().join("only-oscal");
    common::report_demo(dir.path(), &["--format", "oscal"], &out);
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("assessment-results.json")]);
}
