//! `state-schema.json` and `config-schema.json` at the repository root (and their
//! copies beside the quick start's files, which the files' modelines point at) are
//! the schemas generated from the Rust types; these tests fail when a checked-in
//! copy is out of date.

use std::path::PathBuf;

/// Compares (or, with `UPDATE_SCHEMA` set, rewrites) checked-in schema files,
/// given relative to the repository root.
fn check_checked_in(files: &[&str], generated: &str, types: &str) {
    for file in files {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(file);
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, generated).unwrap_or_else(|e| panic!("write {file}: {e}"));
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{file} is out of date with the Rust types in {types}.\n\
             Regenerate it with:\n    UPDATE_SCHEMA=1 cargo test -p umapi-sync --test integration state_schema\n\
             and commit the result."
        );
    }
}

#[test]
fn checked_in_state_schema_is_up_to_date() {
    check_checked_in(
        &[
            "state-schema.json",
            "examples/quickstart/state/state-schema.json",
        ],
        &umapi_sync::schema::state_schema_json(),
        "umapi-sync's model",
    );
}

#[test]
fn checked_in_config_schema_is_up_to_date() {
    check_checked_in(
        &[
            "config-schema.json",
            "examples/quickstart/config-schema.json",
        ],
        &umapi_sync::schema::config_schema_json(),
        "umapi-sync's config",
    );
}

#[test]
fn schema_names_itself_and_describes_every_top_level_key() {
    let schema = umapi_sync::schema::state_schema();
    assert_eq!(schema["$id"], umapi_sync::schema::STATE_SCHEMA_ID);
    assert_eq!(schema["title"], "umapi desired state");
    let properties = schema["properties"].as_object().unwrap();
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["admin_groups", "groups", "profiles", "settings", "users"]
    );
    for (key, property) in properties {
        assert!(
            property["description"].is_string(),
            "{key} has no description"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn config_schema_names_itself_and_describes_every_top_level_key() {
    let schema = umapi_sync::schema::config_schema();
    assert_eq!(schema["$id"], umapi_sync::schema::CONFIG_SCHEMA_ID);
    assert_eq!(schema["title"], "umapi configuration");
    let properties = schema["properties"].as_object().unwrap();
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "connection",
            "packing",
            "settings",
            "state",
            "write_only_cache"
        ]
    );
    for (key, property) in properties {
        assert!(
            property["description"].is_string(),
            "{key} has no description"
        );
    }
    assert_eq!(schema["required"], serde_json::json!(["connection"]));
}

#[test]
fn schema_ids_are_urns_not_pretend_urls() {
    for id in [
        umapi_sync::schema::STATE_SCHEMA_ID,
        umapi_sync::schema::CONFIG_SCHEMA_ID,
    ] {
        assert!(id.starts_with("urn:umapi:schema:"), "{id}");
    }
    assert_ne!(
        umapi_sync::schema::STATE_SCHEMA_ID,
        umapi_sync::schema::CONFIG_SCHEMA_ID
    );
}
