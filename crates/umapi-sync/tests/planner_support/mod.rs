//! Shared helpers of the planner and renderer tests: fixtures and small builders.
#![allow(dead_code)]

use std::path::Path;

use umapi_sync::model::{DesiredState, StateFile};
use umapi_sync::snapshot::Snapshot;

/// The fixture directory.
pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/planner")
}

/// A desired state from YAML text (one state file, no locations).
pub fn desired_from_yaml(yaml: &str) -> DesiredState {
    let file: StateFile = serde_yaml::from_str(yaml).expect("fixture YAML parses");
    DesiredState {
        users: file.users,
        groups: file.groups,
        profiles: file.profiles,
        admin_groups: file.admin_groups,
        settings: file.settings.unwrap_or_default(),
        ..Default::default()
    }
}

/// The fixture org and desired state.
pub fn fixture() -> (DesiredState, Snapshot) {
    let yaml = std::fs::read_to_string(fixtures().join("desired.yaml")).unwrap();
    let org = std::fs::read(fixtures().join("org.json")).unwrap();
    (
        desired_from_yaml(&yaml),
        Snapshot::from_reader(org.as_slice()).unwrap(),
    )
}
pub mod sim;
