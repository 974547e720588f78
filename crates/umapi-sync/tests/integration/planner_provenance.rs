//! Every change of a plan names the lines of the state files that ask for it
//! (`sources`), and a removal because `until` passed says so (`until`).

use std::path::PathBuf;

use jiff::civil::date;
use umapi_core::wire::GroupType;
use umapi_sync::current::Snapshot;
use umapi_sync::desired::DesiredState;
use umapi_sync::plan::Plan;
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::render;

use crate::planner_support::{group, user};

const USERS: &str = "\
users:
  - email: new@x.com
    groups: [Eng]
  - email: renamed@x.com
    firstname: Newname
    groups:
      - Eng
      - name: Interns
        until: 2026-06-30
  - email: leaver@x.com
    until: 2026-06-30
    groups: [Eng]
  - email: both@x.com
    groups:
      - Design
settings: {unlisted_users: remove, default_country: US}
";

const GROUPS: &str = "\
groups:
  - name: Eng
  - name: Interns
  - name: Design
    previously: [Art]
    members:
      - both@x.com
      - new@x.com
  - name: Fresh
    profiles: [PS]
profiles:
  - name: PS
    members: [both@x.com]
";

/// The state files as a project keeps them: `state/` beside `umapi.yaml` in `root`.
fn desired(root: &str) -> DesiredState {
    umapi_sync::desired::load_sources(
        &[
            (
                PathBuf::from(root).join("state/users.yaml"),
                USERS.to_owned(),
            ),
            (
                PathBuf::from(root).join("state/groups.yaml"),
                GROUPS.to_owned(),
            ),
        ],
        None,
    )
    .unwrap()
}

fn org() -> Snapshot {
    let mut renamed = user("renamed@x.com", &["Eng", "Interns"]);
    renamed.firstname = Some("Oldname".into());
    Snapshot::from_parts(
        "ORG@AdobeOrg",
        vec![
            renamed,
            user("leaver@x.com", &["Eng"]),
            user("both@x.com", &[]),
            user("stranger@x.com", &["Eng"]),
        ],
        vec![
            group("Eng", GroupType::UserGroup),
            group("Interns", GroupType::UserGroup),
            group("Art", GroupType::UserGroup),
            group("PS", GroupType::ProductProfile),
        ],
    )
}

fn planned(root: &str) -> Plan {
    let options = PlanOptions {
        today: Some(date(2026, 7, 1)),
        sources_root: Some(PathBuf::from(root)),
        ..PlanOptions::default()
    };
    plan(&desired(root), &org(), &options).unwrap()
}

/// Each counted change as `description | sources | until`.
fn explained(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|change| change.kind.is_counted())
        .map(|change| {
            format!(
                "{} | {} | {}",
                render::describe(change),
                change.sources.join(", "),
                change.until.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn each_change_kind_names_the_line_that_asks_for_it() {
    let mut found = explained(&planned("/srv/org"));
    found.sort();
    let mut expected = vec![
        // A group's own entry.
        "create user group Fresh | state/groups.yaml:9 | -",
        "rename user group Art to Design | state/groups.yaml:4 | -",
        // A user's own entry.
        "create user new@x.com (federatedID) | state/users.yaml:2 | -",
        "update firstname of user renamed@x.com | state/users.yaml:4 | -",
        // The user's `groups:` entry, the group's `members:` entry, or both.
        "add new@x.com to user group Eng | state/users.yaml:3 | -",
        "add new@x.com to user group Design | state/groups.yaml:8 | -",
        "add both@x.com to user group Design | state/users.yaml:15, state/groups.yaml:7 | -",
        "add both@x.com to product profile PS | state/groups.yaml:13 | -",
        // Removals because `until` passed: the `until:` line, and the day.
        "remove renamed@x.com from user group Interns | state/users.yaml:9 | 2026-06-30",
        "remove user leaver@x.com from the org | state/users.yaml:11 | 2026-06-30",
        // A removal of what is not declared: no line causes it.
        "remove user stranger@x.com from the org |  | -",
    ];
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn paths_are_relative_to_the_configuration_folder_whatever_it_is() {
    // The same project in another folder, or given as a relative path, plans the
    // same sources: a saved plan compares equal wherever it is made.
    let absolute = planned("/srv/org");
    assert_eq!(explained(&planned("orgs/eu")), explained(&absolute));
    assert_eq!(explained(&planned(".")), explained(&absolute));
    assert_eq!(explained(&planned("")), explained(&absolute));
}

#[test]
fn a_plan_without_a_root_keeps_the_paths_as_loaded() {
    let options = PlanOptions {
        today: Some(date(2026, 7, 1)),
        ..PlanOptions::default()
    };
    let plan = plan(&desired("/srv/org"), &org(), &options).unwrap();
    let created = plan
        .changes
        .iter()
        .find(|change| render::describe(change) == "create user group Fresh")
        .unwrap();
    assert_eq!(created.sources, ["/srv/org/state/groups.yaml:9"]);
}

#[test]
fn sources_and_until_are_in_the_json_and_read_back() {
    let plan = planned("/srv/org");
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let leaver = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["kind"] == "remove_user" && change["user"] == "leaver@x.com")
        .unwrap();
    assert_eq!(
        leaver["sources"],
        serde_json::json!(["state/users.yaml:11"])
    );
    assert_eq!(leaver["until"], "2026-06-30");
    let stranger = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["user"] == "stranger@x.com")
        .unwrap();
    assert!(stranger.get("sources").is_none() && stranger.get("until").is_none());
    let read = Plan::from_reader(plan.to_json().as_bytes()).unwrap();
    assert_eq!(read, plan);
}

#[test]
fn the_text_and_markdown_plans_show_the_lines() {
    let plan = planned("/srv/org");
    let text = render::text(&plan, false);
    assert!(
        text.contains("+ \"new@x.com\",  # state/groups.yaml:8"),
        "{text}"
    );
    assert!(
        text.contains("- user \"leaver@x.com\" {  # until 2026-06-30 passed, state/users.yaml:11"),
        "{text}"
    );
    let markdown = render::markdown(&plan);
    assert!(
        markdown.contains("members: \"new@x.com\"  # state/groups.yaml#L8"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "- user \"leaver@x.com\" will be removed from the org (until 2026-06-30 passed, \
             state/users.yaml#L11)"
        ),
        "{markdown}"
    );
}

#[test]
fn every_reader_gives_the_same_lines() {
    // The flow mapping of `settings` sends USERS to the general reader; block
    // settings keep it on the fast line reader; a YAML 1.1 line break (in a
    // comment) sends it to serde_yaml, with the positioned tree beside it.
    let fast = USERS.replace(
        "settings: {unlisted_users: remove, default_country: US}\n",
        "settings:\n  unlisted_users: remove\n  default_country: US\n",
    );
    let old_breaks = format!("{USERS}# a comment with a line separator: \u{2028}\n");
    let general = explained(&planned("/srv/org"));
    for users in [fast, old_breaks] {
        let desired = umapi_sync::desired::load_sources(
            &[
                (PathBuf::from("/srv/org/state/users.yaml"), users),
                (
                    PathBuf::from("/srv/org/state/groups.yaml"),
                    GROUPS.to_owned(),
                ),
            ],
            None,
        )
        .unwrap();
        let options = PlanOptions {
            today: Some(date(2026, 7, 1)),
            sources_root: Some(PathBuf::from("/srv/org")),
            ..PlanOptions::default()
        };
        assert_eq!(
            explained(&plan(&desired, &org(), &options).unwrap()),
            general
        );
    }
}
