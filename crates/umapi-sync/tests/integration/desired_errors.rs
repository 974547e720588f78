//! Every kind of problem in the state files, reported where it was written.
//!
//! The snapshots hold the exact rendering `umapi validate` prints:
//! `file:line:column: what is wrong` and a hint.

use std::path::PathBuf;

use umapi_sync::Error;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/state").join(name)
}

/// Loads the paths and renders the problems, one line (plus hint) each.
fn problems(paths: &[PathBuf]) -> String {
    match umapi_sync::desired::load(paths) {
        Ok(_) => panic!("{paths:?} loaded without problems"),
        Err(Error::Invalid(found)) => found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[test]
fn misplaced_misspelt_and_mistyped_keys() {
    insta::assert_snapshot!(problems(&[fixture("errors/shape.yaml")]));
}

#[test]
fn identities_countries_and_lengths() {
    insta::assert_snapshot!(problems(&[fixture("errors/identities.yaml")]));
}

#[test]
fn group_names_admin_groups_and_repeats() {
    insta::assert_snapshot!(problems(&[fixture("errors/names.yaml")]));
}

#[test]
fn references_to_undeclared_groups_profiles_and_users() {
    insta::assert_snapshot!(problems(&[fixture("errors/references.yaml")]));
}

#[test]
fn settings_patterns_limits_and_exclusion_conflicts() {
    insta::assert_snapshot!(problems(&[fixture("errors/settings.yaml")]));
}

#[test]
fn broken_yaml_points_at_the_break() {
    insta::assert_snapshot!(problems(&[fixture("errors/syntax.yaml")]));
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let Err(Error::Invalid(found)) =
        umapi_sync::desired::load(&[fixture("errors/identities.yaml")])
    else {
        panic!("expected problems");
    };
    // One per user, and two for the user with both a bad username and a bad domain.
    assert_eq!(found.len(), 11, "{found:#?}");
    assert!(found.iter().all(|problem| problem.location.is_some()));
}

#[test]
fn a_missing_path_is_named() {
    let text = problems(&[fixture("no-such-folder")]);
    assert_eq!(
        text,
        "state path `tests/fixtures/state/no-such-folder` does not exist\n  hint: create it, or \
         correct `state:` in umapi.yaml (paths there are relative to umapi.yaml)"
    );
}

#[test]
fn load_str_names_the_file_as_given() {
    let Err(Error::Invalid(found)) = umapi_sync::desired::load_str(
        "inline.yaml",
        "users:\n  - email: ada@example.com\n    country: GB\n    groups: [Nowhere]\n",
    ) else {
        panic!("expected problems");
    };
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string(),
        "inline.yaml:4:14: `Nowhere` is not a declared user group, product profile or admin group\n  \
         hint: declare it under `groups:`, `profiles:` or `admin_groups:` in a state file; umapi \
         only manages what is declared"
    );
}

#[test]
fn files_that_are_not_yaml_or_not_text_are_clear_errors() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("bad.yaml");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let text = problems(std::slice::from_ref(&path));
    assert_eq!(
        text,
        format!(
            "{}:1:1: the file is not UTF-8 text: the character here (byte 0xFF) is not UTF-8\n  hint: save it as UTF-8 (files from spreadsheets or older editors may be Latin-1 or UTF-16)",
            path.display()
        )
    );
    std::fs::write(&path, "- just\n- a list\n").unwrap();
    let text = problems(std::slice::from_ref(&path));
    assert_eq!(
        text,
        format!(
            "{}:1:1: expected a mapping here, found a list\n  hint: write `key: value` pairs, indented under this key",
            path.display()
        )
    );
}

#[test]
fn limits_that_are_neither_counts_nor_percentages() {
    let rendered: Vec<String> = ["-1", "99999999999999999999999", "1.5", "true", "'7'", "[3]"]
        .iter()
        .map(|value| {
            let yaml = format!("settings:\n  limits:\n    max_group_deletions: {value}\n");
            match umapi_sync::desired::load_str("limits.yaml", &yaml) {
                Err(error) => format!("{value} => {error}"),
                Ok(_) => format!("{value} => accepted"),
            }
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

#[test]
fn names_and_emails_with_control_or_direction_characters() {
    let text = problems(&[fixture("errors/hidden.yaml")]);
    // What is shown never holds the characters themselves.
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' || ('\u{202A}'..='\u{202E}').contains(&c)),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// A folder (and its files) for the path checks, with `settings.yaml` holding one user.
fn state_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("users.yaml"),
        "users:\n  - email: ada@example.com\n    country: GB\n",
    )
    .unwrap();
    folder
}

/// `problems` with the temporary folder's path written as `[STATE]`.
fn redacted(paths: &[PathBuf], folder: &std::path::Path) -> String {
    let real = folder.canonicalize().unwrap();
    problems(paths)
        .replace(&real.display().to_string(), "[STATE]")
        .replace(&folder.display().to_string(), "[STATE]")
}

#[test]
fn an_empty_state_folder_is_an_error_not_an_empty_org() {
    let folder = tempfile::tempdir().unwrap();
    let (full, empty) = (folder.path().join("full"), folder.path().join("empty"));
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    std::fs::create_dir(&full).unwrap();
    std::fs::write(
        full.join("users.yaml"),
        "users:\n  - email: ada@example.com\n",
    )
    .unwrap();
    std::fs::write(empty.join("notes.txt"), "users:\n").unwrap();
    insta::assert_snapshot!(redacted(&[full, empty], folder.path()));
}

#[test]
fn yaml_extensions_are_recognised_in_any_case() {
    let folder = state_folder();
    std::fs::write(
        folder.path().join("MORE.YAML"),
        "users:\n  - email: grace@example.com\n    country: US\n",
    )
    .unwrap();
    std::fs::write(folder.path().join("Groups.Yml"), "groups:\n  - name: Eng\n").unwrap();
    let state = umapi_sync::desired::load(&[folder.path().to_path_buf()]).unwrap();
    assert_eq!(state.users.len(), 2);
    assert_eq!(state.groups.len(), 1);
}

#[test]
fn a_file_or_folder_reached_twice_is_named() {
    let folder = state_folder();
    let file = folder.path().join("users.yaml");
    insta::assert_snapshot!(
        "file_listed_twice",
        redacted(&[file.clone(), file.clone()], folder.path())
    );
    insta::assert_snapshot!(
        "file_in_listed_folder",
        redacted(&[folder.path().to_path_buf(), file], folder.path())
    );
    #[cfg(unix)]
    {
        let sub = folder.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::os::unix::fs::symlink(folder.path(), sub.join("loop")).unwrap();
        insta::assert_snapshot!(
            "symbolic_link_loop",
            redacted(&[folder.path().to_path_buf()], folder.path())
        );
    }
}

#[test]
fn no_users_with_a_policy_that_removes_unlisted_users() {
    let rendered: Vec<String> = ["remove", "delete", "remove_memberships", "ignore"]
        .iter()
        .map(|policy| {
            let yaml = format!("settings:\n  unlisted_users: {policy}\ngroups:\n  - name: Eng\n");
            match umapi_sync::desired::load_str("settings.yaml", &yaml) {
                Err(error) => format!("{policy} => {error}"),
                Ok(_) => format!("{policy} => accepted"),
            }
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
    // One declared user anywhere is enough.
    let state = umapi_sync::desired::load_sources(
        &[
            (
                PathBuf::from("settings.yaml"),
                "settings:\n  unlisted_users: delete\n".to_owned(),
            ),
            (
                PathBuf::from("users.yaml"),
                "users:\n  - email: ada@example.com\n    country: GB\n".to_owned(),
            ),
        ],
        None,
    );
    assert!(state.is_ok(), "{state:?}");
}

#[test]
fn a_byte_that_is_not_utf8_is_located() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("latin1.yaml");
    // "Zoë" in Latin-1: 0xEB on line 3, after `    firstname: Zo`.
    let mut bytes = b"users:\n  - email: zoe@example.com\n    firstname: Zo".to_vec();
    bytes.extend([0xEB, b'\n']);
    std::fs::write(&path, bytes).unwrap();
    let text = problems(std::slice::from_ref(&path));
    assert!(
        text.starts_with(&format!("{}:3:18: ", path.display())),
        "{text}"
    );
    assert!(text.contains("0xEB"), "{text}");
}

#[test]
fn policy_violations_point_at_what_breaks_them() {
    insta::assert_snapshot!(problems(&[fixture("errors/policy.yaml")]));
}

#[test]
fn a_state_that_keeps_its_policy_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.yaml");
    std::fs::write(
        &file,
        "users:\n  - email: ada@example.com\n    groups: [Engineering, _admin_Engineering]\n  \
         - email: bo@example.com\n    groups: [Engineering, _admin_Engineering]\n  \
         - email: kim@gmail.com\n    type: adobeID\n    groups: [Design]\n\
         groups:\n  - name: Engineering\n    profiles: [All Apps]\n  - name: Design\n\
         profiles:\n  - name: All Apps\nadmin_groups:\n  - name: _admin_Engineering\n\
         settings:\n  default_country: US\n  policy:\n    email_domains: {federatedID: [Example.com]}\n    \
         min_members: {_admin_engineering: 2}\n    no_adobe_ids: [All Apps]\n    \
         every_user_in_a_user_group: true\n",
    )
    .unwrap();
    let state = umapi_sync::desired::load(&[file]).expect("the policy is kept");
    assert_eq!(state.settings.policy.min_members.len(), 1);
}

#[test]
fn a_policy_minimum_of_zero_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.yaml");
    std::fs::write(
        &file,
        "users:\n  - email: ada@example.com\nsettings:\n  default_country: US\n  policy:\n    min_members: {x: 0}\n",
    )
    .unwrap();
    let shown = problems(&[file]).replace(&dir.path().display().to_string(), "[DIR]");
    assert!(shown.starts_with("[DIR]/state.yaml:6:"), "{shown}");
}

#[test]
fn until_dates_that_are_not_days() {
    insta::assert_snapshot!(problems(&[fixture("errors/until.yaml")]));
}

#[test]
fn a_dated_membership_takes_only_a_name_and_a_day() {
    insta::assert_snapshot!(problems(&[fixture("errors/until_shape.yaml")]));
}
