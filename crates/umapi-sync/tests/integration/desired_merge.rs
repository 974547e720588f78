//! Several files and folders merged into one desired state.

use std::path::PathBuf;

use umapi_sync::Error;
use umapi_sync::desired::{Target, UnlistedUsers};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/state").join(name)
}

#[test]
fn folders_are_read_recursively_in_name_order_and_merged() {
    let state = umapi_sync::desired::load(&[fixture("merge/ok")]).unwrap();
    // groups/engineering.yml, groups/profiles.yaml, settings.yaml, users.yaml;
    // README.txt is not YAML and is skipped.
    let emails: Vec<_> = state
        .users
        .iter()
        .map(|u| u.email.as_deref().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["Ada@Example.com", "grace@example.com", "john@example.com"]
    );
    assert_eq!(state.groups.len(), 1);
    assert_eq!(state.profiles.len(), 1);
    assert_eq!(state.settings.default_country.as_deref(), Some("US"));
    assert_eq!(
        state.settings.unlisted_users,
        UnlistedUsers::RemoveMemberships
    );
    assert_eq!(
        state.origin_of("ENGINEERING").unwrap().to_string(),
        "tests/fixtures/state/merge/ok/groups/engineering.yml:2:5"
    );
    assert_eq!(
        state.origin_of_user(&state.users[0]).unwrap().to_string(),
        "tests/fixtures/state/merge/ok/users.yaml:2:5"
    );
}

#[test]
fn memberships_from_users_and_groups_are_united_case_insensitively() {
    let state = umapi_sync::desired::load(&[fixture("merge/ok")]).unwrap();
    // Ada lists `engineering` herself and the group lists `ada@example.com` too;
    // grace and jdoe (by username) are listed on the group only.
    let members: Vec<_> = state
        .members_of("Engineering")
        .map(|u| u.email.as_deref().unwrap())
        .collect();
    assert_eq!(
        members,
        ["Ada@Example.com", "grace@example.com", "john@example.com"]
    );
    let members: Vec<_> = state
        .members_of("all apps")
        .map(|u| u.email.as_deref().unwrap())
        .collect();
    assert_eq!(members, ["john@example.com"]);
    assert_eq!(state.members_of("Undeclared").count(), 0);
    assert_eq!(state.memberships_of(2), ["Engineering", "All Apps"]);
    assert_eq!(state.memberships_of(1), ["Engineering"]);
    assert!(matches!(state.target("ALL APPS"), Some(Target::Profile(p)) if p.name == "All Apps"));
    assert_eq!(
        state.user("JDOE").unwrap().email.as_deref(),
        Some("john@example.com")
    );
    assert_eq!(state.user_index("jdoe (EXAMPLE.com)"), Some(2));
    assert_eq!(state.user_index("John@Example.com"), Some(2));
    assert_eq!(state.user("nobody@example.com"), None);
    assert_eq!(
        state.user("ada@example.COM").unwrap().email.as_deref(),
        Some("Ada@Example.com")
    );
}

#[test]
fn defaults_come_from_the_settings() {
    let state = umapi_sync::desired::load(&[fixture("merge/ok")]).unwrap();
    let ada = &state.users[0];
    assert_eq!(ada.country, None, "what is written is kept as written");
    assert_eq!(state.country_of(ada), Some("US"));
    assert_eq!(
        state.identity_type_of(ada),
        umapi_core::wire::IdentityType::FederatedId
    );
}

#[test]
fn explicit_files_load_in_the_order_given() {
    let state = umapi_sync::desired::load(&[
        fixture("merge/ok/users.yaml"),
        fixture("merge/ok/settings.yaml"),
        fixture("merge/ok/groups"),
    ])
    .unwrap();
    assert_eq!(state.users[0].email.as_deref(), Some("Ada@Example.com"));
    assert_eq!(state.members_of("engineering").count(), 3);
}

#[test]
fn duplicates_across_files_name_both_places() {
    let Err(Error::Invalid(found)) = umapi_sync::desired::load(&[fixture("merge/dup")]) else {
        panic!("expected problems");
    };
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text.join("\n"));
    // The duplicate user names the first place and is reported at the second.
    let user = &found[0];
    assert_eq!(
        user.location.as_ref().unwrap().to_string(),
        "tests/fixtures/state/merge/dup/nested/b.yml:2:5"
    );
    assert!(
        user.message
            .contains("defined twice: here and at tests/fixtures/state/merge/dup/a.yaml:2:5"),
        "{}",
        user.message
    );
}

#[test]
fn settings_in_umapi_yaml_and_a_state_file_are_a_duplicate() {
    let folder = tempfile::tempdir().unwrap();
    let state_dir = folder.path().join("state");
    std::fs::create_dir(&state_dir).unwrap();
    std::fs::write(
        state_dir.join("s.yaml"),
        "settings:\n  default_country: GB\nusers:\n  - email: a@example.com\n",
    )
    .unwrap();
    let config_path = folder.path().join("umapi.yaml");
    std::fs::write(
        &config_path,
        "connection:\n  kind: sandbox\nsettings:\n  default_country: US\n",
    )
    .unwrap();
    let config = umapi_sync::config::Config::load(&config_path).unwrap();
    let Err(Error::Invalid(found)) = config.load_state() else {
        panic!("expected problems");
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        format!(
            "{}:1:1: settings are written twice: here and at {}:3:1\n  hint: keep one \
             `settings:` block, in umapi.yaml or in one state file",
            state_dir.join("s.yaml").display(),
            config_path.display()
        )
    );
    // Without the state file's block, umapi.yaml's settings apply.
    std::fs::write(
        state_dir.join("s.yaml"),
        "users:\n  - email: a@example.com\n",
    )
    .unwrap();
    let state = config.load_state().unwrap();
    assert_eq!(state.country_of(&state.users[0]), Some("US"));
}

#[test]
fn an_empty_file_is_an_empty_state_and_an_empty_folder_an_error() {
    let folder = tempfile::tempdir().unwrap();
    // An empty folder is more likely a wrong path than an org without users.
    let Err(umapi_sync::Error::Invalid(found)) =
        umapi_sync::desired::load(&[folder.path().to_path_buf()])
    else {
        panic!("an empty folder must not load");
    };
    assert!(found[0].message.contains("holds no YAML file"), "{found:?}");
    std::fs::write(folder.path().join("empty.yaml"), "# nothing yet\n").unwrap();
    let state = umapi_sync::desired::load(&[folder.path().to_path_buf()]).unwrap();
    assert!(state.users.is_empty());
}

#[test]
fn problems_in_one_file_do_not_hide_problems_in_another() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("a.yaml"),
        "users:\n  - emial: x@example.com\n",
    )
    .unwrap();
    std::fs::write(
        folder.path().join("b.yaml"),
        "users:\n  - email: bad\n    country: US\n",
    )
    .unwrap();
    let Err(Error::Invalid(found)) = umapi_sync::desired::load(&[folder.path().to_path_buf()])
    else {
        panic!("expected problems");
    };
    let files: Vec<_> = found
        .iter()
        .map(|p| {
            p.location
                .as_ref()
                .unwrap()
                .file
                .file_name()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(files, ["a.yaml", "b.yaml"], "{found:?}");
}

#[test]
fn a_username_shared_across_domains_names_no_one() {
    let yaml = "users:\n  - username: sam\n    domain: one.example\n    country: US\n  \
                - username: sam\n    domain: two.example\n    country: US\n\
                groups:\n  - name: G\n    members: [sam]\n";
    let Err(Error::Invalid(found)) = umapi_sync::desired::load_str("s.yaml", yaml) else {
        panic!("expected problems");
    };
    assert_eq!(
        found[0].to_string(),
        "s.yaml:10:15: `sam` is the username of 2 users in different domains\n  hint: name the \
         member by email address, or as `username (domain)`"
    );
    let fixed = yaml.replace("members: [sam]", "members: [sam (two.example)]");
    let state = umapi_sync::desired::load_str("s.yaml", &fixed).unwrap();
    assert_eq!(state.user_index("sam"), None);
    assert_eq!(state.user_index("SAM (one.example)"), Some(0));
    let members: Vec<_> = state
        .members_of("g")
        .map(|u| u.domain.as_deref().unwrap())
        .collect();
    assert_eq!(members, ["two.example"]);
}

#[test]
fn a_hand_built_state_gets_its_indexes_from_reindex() {
    use umapi_sync::desired::{DesiredState, GroupSpec, UserSpec};
    let mut state = DesiredState {
        users: vec![
            UserSpec {
                email: Some("a@example.com".into()),
                groups: vec!["TEAM".into(), "Undeclared".into()],
                ..Default::default()
            },
            UserSpec {
                email: Some("b@example.com".into()),
                ..Default::default()
            },
        ],
        groups: vec![GroupSpec {
            name: "Team".into(),
            members: vec!["B@example.com".into(), "nobody@example.com".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(
        state.members_of("team").count(),
        0,
        "no indexes before reindex"
    );
    state.reindex();
    let members: Vec<_> = state
        .members_of("team")
        .map(|u| u.email.as_deref().unwrap())
        .collect();
    assert_eq!(members, ["a@example.com", "b@example.com"]);
    assert_eq!(state.user_index("B@EXAMPLE.COM"), Some(1));
    assert_eq!(state.memberships_of(0), ["Team"]);
}

#[test]
fn the_documented_example_loads() {
    let state = umapi_sync::desired::load(&[fixture("valid/org.yaml")]).unwrap();
    let members: Vec<_> = state
        .members_of("engineering")
        .map(|u| u.display_identity())
        .collect();
    assert_eq!(
        members,
        ["ada@example.com", "grace@example.com", "jdoe (example.com)"]
    );
    assert_eq!(state.members_of("_admin_Engineering").count(), 1);
    assert_eq!(
        state.memberships_of(0),
        ["Engineering", "All Apps - Engineering"]
    );
    assert_eq!(
        state.identity_type_of(&state.users[3]),
        umapi_core::wire::IdentityType::AdobeId
    );
}

#[cfg(unix)]
#[test]
fn hidden_entries_are_skipped_and_link_loops_are_named() {
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("state");
    std::fs::create_dir_all(state.join(".git")).unwrap();
    std::fs::write(state.join(".git/config.yaml"), "not: [state").unwrap();
    std::fs::write(state.join(".draft.yaml"), "users: [oops").unwrap();
    std::fs::write(
        state.join("users.yaml"),
        "users:\n  - email: a@example.com\n    country: US\n",
    )
    .unwrap();
    let loaded = umapi_sync::desired::load(std::slice::from_ref(&state)).unwrap();
    assert_eq!(loaded.users.len(), 1);
    std::os::unix::fs::symlink(&state, state.join("loop")).unwrap();
    let Err(umapi_sync::Error::Invalid(found)) = umapi_sync::desired::load(&[state]) else {
        panic!("a link loop must not load");
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.contains("loop` is reached twice"),
        "{found:?}"
    );
}

#[test]
fn many_files_of_uneven_size_merge_in_order_with_their_origins() {
    // Files are read in parallel shares; the result must not depend on that.
    let sizes = [1, 40, 2, 3, 120, 1, 7, 60, 5];
    let sources: Vec<(PathBuf, String)> = sizes
        .iter()
        .enumerate()
        .map(|(file, &users)| {
            let mut text = String::from("users:\n");
            for user in 0..users {
                text.push_str(&format!(
                    "  - email: f{file}u{user}@example.com\n    country: US\n    groups: [Team {file}]\n"
                ));
            }
            text.push_str(&format!("groups:\n  - name: Team {file}\n"));
            (PathBuf::from(format!("file-{file}.yaml")), text)
        })
        .collect();
    let state = umapi_sync::desired::load_sources(&sources, None).unwrap();
    let expected: Vec<String> = sizes
        .iter()
        .enumerate()
        .flat_map(|(file, &users)| {
            (0..users).map(move |user| format!("f{file}u{user}@example.com"))
        })
        .collect();
    let emails: Vec<_> = state
        .users
        .iter()
        .map(|u| u.email.as_deref().unwrap().to_owned())
        .collect();
    assert_eq!(emails, expected);
    for (file, &users) in sizes.iter().enumerate() {
        let last = state
            .user(&format!("f{file}u{}@example.com", users - 1))
            .unwrap();
        assert_eq!(
            state.origin_of_user(last).unwrap().to_string(),
            format!("file-{file}.yaml:{}:5", 2 + 3 * (users - 1))
        );
        assert_eq!(
            state
                .origin_of(&format!("team {file}"))
                .unwrap()
                .to_string(),
            format!("file-{file}.yaml:{}:5", 3 + 3 * users)
        );
        assert_eq!(state.members_of(&format!("Team {file}")).count(), users);
    }
}

#[test]
fn problems_in_many_files_are_all_reported_in_file_order() {
    let sources: Vec<(PathBuf, String)> = (0..6)
        .map(|file| {
            (
                PathBuf::from(format!("file-{file}.yaml")),
                format!("users:\n  - email: not-an-email-{file}\n    country: US\n"),
            )
        })
        .collect();
    let Err(Error::Invalid(problems)) = umapi_sync::desired::load_sources(&sources, None) else {
        panic!("invalid emails are errors");
    };
    let files: Vec<String> = problems
        .iter()
        .map(|p| p.location.as_ref().unwrap().file.display().to_string())
        .collect();
    let expected: Vec<String> = (0..6).map(|file| format!("file-{file}.yaml")).collect();
    assert_eq!(files, expected);
}

/// The fast reader takes block mappings and gives up on flow mappings, which the
/// general reader then reads: both forms of a dated membership mean the same.
#[test]
fn a_dated_membership_reads_the_same_in_block_and_flow_form() {
    let block = "users:
  - email: intern@example.com
    country: US
    until: 2026-12-31
    groups:
      - Engineering
      - name: Interns
        until: 2026-08-31
groups:
  - name: Engineering
  - name: Interns
";
    let flow = "users:
  - email: intern@example.com
    country: US
    until: 2026-12-31
    groups: [Engineering, {name: Interns, until: 2026-08-31}]
groups:
  - name: Engineering
  - name: Interns
";
    let read = |text: &str| umapi_sync::desired::load_str("state.yaml", text).unwrap();
    let (block, flow) = (read(block), read(flow));
    assert_eq!(block.users, flow.users);
    let user = &block.users[0];
    assert_eq!(user.until.as_deref(), Some("2026-12-31"));
    assert_eq!(&*user.groups[0].name, "Engineering");
    assert_eq!(user.groups[0].until, None);
    assert_eq!(&*user.groups[1].name, "Interns");
    assert_eq!(user.groups[1].until.as_deref(), Some("2026-08-31"));
    // A dated membership is a membership like any other until it ends.
    assert_eq!(block.members_of("Interns").count(), 1);
}

mod split {
    use proptest::prelude::*;
    use std::fmt::Write as _;

    /// A user as generated: whether it repeats the first user's email, whether it
    /// has a username (shared by each pair of users, in two domains), the groups
    /// it names by index, and whether its email is written in upper case.
    type User = (bool, bool, Vec<usize>, bool);

    const GROUPS: [&str; 3] = ["Team", "Staff", "Pro"];

    fn user_yaml(index: usize, (repeat, username, groups, upper): &User) -> String {
        let email = if *repeat {
            "u0@example.com".to_owned()
        } else {
            format!("u{index}@example.com")
        };
        let email = if *upper { email.to_uppercase() } else { email };
        let mut text = format!("- email: {email}\n  country: US\n");
        if *username {
            let (pair, domain) = (index / 2, ["one.example", "two.example"][index % 2]);
            writeln!(text, "  username: sam{pair}\n  domain: {domain}").unwrap();
        }
        let names: Vec<&str> = groups
            .iter()
            .map(|&g| match g {
                1 => ["STAFF", "staff"][index % 2],
                _ => GROUPS[g],
            })
            .collect();
        writeln!(text, "  groups: [{}]", names.join(", ")).unwrap();
        text
    }

    fn head(members: &[String]) -> String {
        format!(
            "groups:\n- name: Team\n  members: [{}]\n- name: Staff\nprofiles:\n- name: Pro\n  members: [u1@example.com]\n",
            members.join(", ")
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// The identities, usernames and members the checks across files build
        /// for the merged state are those `reindex` builds, and a state split into
        /// files is the state written in one.
        #[test]
        fn many_files_load_as_one_and_as_reindex_builds_it(
            users in prop::collection::vec(
                (prop::bool::weighted(0.02), any::<bool>(),
                 prop::sample::subsequence(vec![0, 1, 2], 0..=3), any::<bool>()),
                1..40,
            ),
            members in prop::collection::vec((0..3, any::<prop::sample::Index>()), 0..4),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            // Declared users, by email, by username and domain, or by username alone.
            let members: Vec<String> = members
                .iter()
                .map(|&(form, at)| {
                    let at = at.index(users.len());
                    match (form, users[at].1) {
                        (1, true) => {
                            format!("sam{} ({})", at / 2, ["one.example", "two.example"][at % 2])
                        }
                        (2, true) => format!("sam{}", at / 2),
                        _ if users[at].0 => "u0@example.com".to_owned(),
                        _ => format!("u{at}@example.com"),
                    }
                })
                .collect();
            let written: Vec<String> =
                users.iter().enumerate().map(|(index, user)| user_yaml(index, user)).collect();
            let one = format!("{}users:\n{}", head(&members), written.concat());
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(written.len() + 1)).collect();
            cuts.push(0);
            cuts.push(written.len());
            cuts.sort_unstable();
            cuts.dedup();
            let files: Vec<(std::path::PathBuf, String)> = cuts
                .windows(2)
                .enumerate()
                .map(|(file, range)| {
                    let users = written[range[0]..range[1]].concat();
                    let head = if file == 0 { head(&members) } else { String::new() };
                    let name = if file == 0 { "org.yaml".to_owned() } else { format!("org-{file}.yaml") };
                    (name.into(), format!("{head}users:\n{users}"))
                })
                .collect();
            let whole = umapi_sync::desired::load_sources(&[("org.yaml".into(), one)], None);
            let split = umapi_sync::desired::load_sources(&files, None);
            prop_assert_eq!(whole.is_ok(), split.is_ok(), "{:?} {:?}", whole.err(), split.err());
            if let (Ok(whole), Ok(split)) = (whole, split) {
                let mut reindexed = split.clone();
                reindexed.reindex();
                prop_assert_eq!(&split, &reindexed);
                prop_assert_eq!(&split, &whole);
                prop_assert_eq!(split.users.len(), users.len());
            }
        }
    }
}
