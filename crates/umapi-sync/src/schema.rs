//! The JSON Schemas of the state files (`state-schema.json` at the repository root)
//! and of `umapi.yaml` (`config-schema.json`).
//!
//! Generated from the Rust types in [`crate::desired`] and [`crate::config`], so the
//! schemas editors use and the loader's own checks cannot drift apart; a test
//! compares the checked-in copies with this output.

use schemars::generate::SchemaSettings;

use crate::desired::StateFile;

/// The `$id` of the state-file schema. A URN names the schema without claiming a
/// download location: editors find the schema through the modeline's file path
/// (`# yaml-language-server: $schema=./state-schema.json`), never through the `$id`.
pub const STATE_SCHEMA_ID: &str = "urn:umapi:schema:state";

/// The `$id` of the `umapi.yaml` schema (a URN, like [`STATE_SCHEMA_ID`]).
pub const CONFIG_SCHEMA_ID: &str = "urn:umapi:schema:config";

/// The file name `umapi schema state` output is saved as beside the state files;
/// the modeline of exported and example state files points at it.
pub const STATE_SCHEMA_FILE: &str = "state-schema.json";

/// The file name `umapi schema config` output is saved as beside `umapi.yaml`.
pub const CONFIG_SCHEMA_FILE: &str = "config-schema.json";

/// The first line of a state file written by umapi: it points YAML editors (the
/// `yaml-language-server` of VS Code and others) at the schema in the same folder.
pub fn state_modeline() -> String {
    format!("yaml-language-server: $schema=./{STATE_SCHEMA_FILE}")
}

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

/// The JSON Schema of `umapi.yaml`, as a `serde_json` value: the schema the config
/// loader checks with, named and described for editors.
pub fn config_schema() -> serde_json::Value {
    let mut schema = crate::config::config_schema();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".to_owned(), CONFIG_SCHEMA_ID.into());
        object.insert("title".to_owned(), "umapi configuration".into());
        object.insert(
            "description".to_owned(),
            "umapi.yaml: how to reach the Adobe organization, where the state files are, \
             and optionally the settings. Secrets never go here: they come from the \
             environment. See the umapi README."
                .into(),
        );
    }
    schema
}

/// The JSON Schema of one state file, pretty-printed with a final newline: the exact
/// contents of `state-schema.json`.
pub fn state_schema_json() -> String {
    pretty(&state_schema())
}

/// The JSON Schema of `umapi.yaml`, pretty-printed with a final newline: the exact
/// contents of `config-schema.json`.
pub fn config_schema_json() -> String {
    pretty(&config_schema())
}

fn pretty(schema: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a JSON value always serialises");
    text.push('\n');
    text
}
