//! The messages users read around a plan: test mode, stale saved plans,
//! copy-paste hints, "did you mean" for unknown names, change counts.

mod common;

use common::{Project, code, stderr, stdout};

#[test]
fn test_mode_says_so_in_the_header_and_the_summary_and_names_what_it_could_not_validate() {
    let project = Project::example("quickstart");
    let output = project.run(&["apply", "--auto-approve", "--test-only"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    let header = out.lines().next().expect("a header");
    let summary = &out[out.find("\nTest mode").expect("test-mode summary")..];
    insta::assert_snapshot!("test_mode_header", header);
    insta::assert_snapshot!("test_mode_summary", summary);
    for contradiction in ["Apply complete", "applied", "sent to"] {
        assert!(
            !summary.contains(contradiction),
            "test mode changes nothing, yet: {summary}"
        );
    }
    assert!(project.org_is_unchanged());
}

/// The org as the embedded sandbox will serve it next: the seed, edited.
fn edit_org(project: &Project, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut org: serde_json::Value =
        serde_json::from_str(&project.read("seed-org.json")).expect("seed is JSON");
    edit(&mut org);
    project.write("sandbox-state.json", &org.to_string());
}

#[test]
fn a_stale_plan_names_users_and_groups_as_they_are_spelt() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    // Someone creates Interns in the Admin Console and makes Radia an admin of
    // Engineering: both are changes the plan was going to make, but not all of them.
    edit_org(&project, |org| {
        org["user_groups"]
            .as_array_mut()
            .expect("user groups")
            .push(serde_json::json!({"group_id": 4109999, "name": "Interns", "profiles": []}));
        let radia = org["users"]
            .as_array_mut()
            .expect("users")
            .iter_mut()
            .find(|u| u["email"] == "radia.perlman@example.com")
            .expect("radia");
        radia["groups"]
            .as_array_mut()
            .expect("groups")
            .push("_admin_Engineering".into());
    });
    let output = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&output), 1);
    insta::assert_snapshot!("stale_plan", project.redact(&stderr(&output)));
}

#[test]
fn a_saved_plan_whose_changes_are_all_in_the_org_is_already_applied() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));

    let output = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(!err.contains("stale"), "{err}");
    insta::assert_snapshot!("already_applied", project.redact(&err));
}
