//! The JSON Schema of the state files (`state-schema.json` at the repository root).
//!
//! Generated from the Rust types in [`crate::model`], so the schema editors use and
//! the loader's own checks cannot drift apart; a test compares the checked-in copy
//! with this output.

use schemars::generate::SchemaSettings;

use crate::model::StateFile;

/// Where the published schema lives; state files point editors at it.
pub const STATE_SCHEMA_ID: &str = "https://example.invalid/umapi/state-schema.json";

/// The JSON Schema of one state file, as a `serde_json` value.
pub fn state_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<StateFile>();
    schema.insert("$id".to_owned(), STATE_SCHEMA_ID.into());
    schema.insert("title".to_owned(), "umapi desired state".into());
    schema.insert(
        "description".to_owned(),
        "One umapi state file: users, user groups, product profiles and admin groups \
         of an Adobe organization as they should be, and optionally the settings. \
         Several files are merged; see the umapi README."
            .into(),
    );
    schema.to_value()
}

/// The JSON Schema of one state file, pretty-printed with a final newline: the exact
/// contents of `state-schema.json`.
pub fn state_schema_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&state_schema()).expect("a JSON value always serialises");
    text.push('\n');
    text
}
