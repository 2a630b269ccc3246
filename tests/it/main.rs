//! The integration tests, in one binary (one link, one process that can share expensive fixtures), one module per
//! area: `./x test --test it` runs them all, `./x test --test it demo::` one area, and a full test name one test.

mod attestations;
mod browser;
mod bundle;
mod cli;
mod collect_github;
mod collection_schedule;
mod common;
mod controls;
mod demo;
mod doctor;
mod drift;
mod export;
mod frameworks;
mod fuzz;
mod github_app;
mod github_fields;
mod http_client;
mod ingest_completeness;
mod ingest_kubernetes;
mod ingest_large;
mod ingest_samples;
mod ingest_sarif;
mod job_lock;
mod layers;
mod oscal;
mod release_branches;
mod releases;
mod retention;
mod run;
mod sandbox;
mod sarif_export;
mod store;
mod throughout;
mod vulnerability_reporting;
mod waivers;
