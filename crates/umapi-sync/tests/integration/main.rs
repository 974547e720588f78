//! Integration tests of umapi-sync through its public API. One test binary (one link) holds
//! every suite; each module is one area.

mod apply_engine;
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
mod state_config;
mod state_errors;
mod state_merge;
mod state_robustness;
mod state_roundtrip;
mod state_schema;
mod written_record;
