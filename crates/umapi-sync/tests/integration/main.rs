//! Integration tests of umapi-sync through its public API. One test binary (one link) holds
//! every suite; each module is one area.

mod apply_engine;
mod config_file;
mod desired_errors;
mod desired_merge;
mod desired_robustness;
mod desired_roundtrip;
mod desired_schema;
mod export_roundtrip;
mod pacing_jitter;
mod planner_expiry;
mod planner_fixture;
mod planner_identity;
mod planner_keys;
mod planner_licences;
mod planner_properties;
mod planner_provenance;
mod planner_rules;
mod planner_sandbox;
mod planner_support;
mod planner_targets;
mod render_snapshots;
mod written_record;
