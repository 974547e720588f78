//! Targeted plans end to end on the quick start: offboarding one person at once,
//! while the rest of the drift waits for a full plan.

use crate::common::{Project, code, stderr, stdout};

/// The quick start with Paul Rand taken out of the state files: under
/// `unlisted_users: remove` he is to leave the org.
fn offboarding() -> Project {
    let project = Project::example("quickstart");
    let users = project.read("state/users.yaml").replace(
        "  - email: paul.rand@example.com\n    firstname: Paul\n    lastname: Rand\n    country: US\n    groups: [Design]\n",
        "",
    );
    assert!(!users.contains("paul.rand"));
    project.write("state/users.yaml", &users);
    project
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).expect("JSON on stdout")
}

#[test]
fn one_user_is_offboarded_and_the_rest_of_the_drift_stays_planned() {
    let project = offboarding();
    let target = "user:Paul.Rand@example.com";

    let partial = project.run(&["plan", "--target", target, "-o", "plan.json"]);
    assert_eq!(code(&partial), 0, "stderr: {}", stderr(&partial));
    let text = stdout(&partial);
    assert!(
        text.starts_with("PARTIAL plan: only the changes that concern user:Paul.Rand@example.com;"),
        "{text}"
    );
    assert!(
        text.contains("PARTIAL plan, limited to user:Paul.Rand@example.com."),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 0 to change, 1 to remove."),
        "{text}"
    );

    let saved: serde_json::Value = serde_json::from_str(&project.read("plan.json")).unwrap();
    assert_eq!(saved["targets"], serde_json::json!([target]));
    let changes = saved["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{saved:#}");
    assert_eq!(changes[0]["kind"], "remove_user");
    assert_eq!(changes[0]["user"], "paul.rand@example.com");

    // The saved plan is planned again with its targets, and only Paul's change is sent.
    let applied = project.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "stderr: {}", stderr(&applied));
    assert!(
        stdout(&applied).contains("Apply complete! 1 change applied"),
        "{}",
        stdout(&applied)
    );
    let state = project.read("sandbox-state.json");
    assert!(
        !state.contains("paul.rand@example.com"),
        "Paul left the org"
    );
    assert!(
        !state.contains("nina.patel@example.com"),
        "nothing else was sent"
    );

    // A full plan still has the rest of the drift, and no longer Paul.
    let full = project.run(&["plan", "--json"]);
    assert_eq!(code(&full), 0, "stderr: {}", stderr(&full));
    let full = json(&full);
    assert_eq!(full["targets"], serde_json::json!([]));
    let users: Vec<&str> = full["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["user"].as_str())
        .collect();
    assert!(users.contains(&"nina.patel@example.com"), "{users:?}");
    assert!(!users.contains(&"paul.rand@example.com"), "{users:?}");
}

#[test]
fn a_target_that_matches_nothing_is_an_error_with_a_suggestion() {
    let project = offboarding();
    let wrong = project.run(&[
        "plan",
        "--target",
        "user:paul.rnad@example.com",
        "--target",
        "group:Desing",
    ]);
    assert_eq!(code(&wrong), 1);
    assert!(stdout(&wrong).is_empty());
    let err = stderr(&wrong);
    assert!(
        err.contains(
            "--target user:paul.rnad@example.com matches no user in the state files or the org"
        ),
        "{err}"
    );
    assert!(
        err.contains("did you mean `user:paul.rand@example.com`?"),
        "{err}"
    );
    assert!(err.contains("did you mean `group:Design`?"), "{err}");
}

#[test]
fn a_saved_plan_keeps_its_targets() {
    let project = offboarding();
    let saved = project.run(&["plan", "--target", "group:Interns", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "stderr: {}", stderr(&saved));
    let changed = project.run(&["apply", "plan.json", "--target", "group:Design"]);
    assert_eq!(code(&changed), 1);
    assert!(
        stderr(&changed).contains("--target cannot change the saved plan"),
        "{}",
        stderr(&changed)
    );
    assert!(project.org_is_unchanged());
}
