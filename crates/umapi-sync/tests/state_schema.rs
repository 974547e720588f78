//! `state-schema.json` at the repository root is the schema generated from the
//! Rust types; this test fails when the checked-in copy is out of date.

use std::path::PathBuf;

#[test]
fn checked_in_state_schema_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../state-schema.json");
    let generated = umapi_sync::schema::state_schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write state-schema.json");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "state-schema.json is out of date with the Rust types in umapi-sync's model.\n\
         Regenerate it with:\n    UPDATE_SCHEMA=1 cargo test -p umapi-sync --test state_schema\n\
         and commit the result."
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
