//! The quick start end to end: the real binary, the embedded sandbox over
//! HTTP, state persisted between runs.

use crate::common::{Project, code, stderr, stdout};

#[test]
fn apply_then_plan_shows_no_changes() {
    let project = Project::example("quickstart");

    let first = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&first), 0, "stderr: {}", stderr(&first));
    let out = stdout(&first);
    assert!(
        out.contains("Plan: 9 to add, 3 to change, 6 to remove."),
        "{out}"
    );
    assert!(out.contains("Apply complete! 18 changes applied"), "{out}");
    assert!(
        project.file("sandbox-state.json").exists(),
        "the sandbox persisted the org"
    );

    let second = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&second), 0, "stderr: {}", stderr(&second));
    assert!(
        stdout(&second).contains("No changes. The organization matches the configuration."),
        "{}",
        stdout(&second)
    );

    // The org itself changed: the renamed user and the new group are there.
    let state = project.read("sandbox-state.json");
    assert!(state.contains("kate.bell@example.com"));
    assert!(!state.contains("kate.smith@example.com"));
    assert!(state.contains("\"Interns\""));
    assert!(!state.contains("\"Contractors\""));
}

#[test]
fn detailed_exitcode_is_2_with_changes_0_without_and_1_on_error() {
    let project = Project::example("quickstart");
    let changes = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&changes), 2, "stderr: {}", stderr(&changes));

    let plain = project.run(&["plan"]);
    assert_eq!(code(&plain), 0, "without the flag, changes still exit 0");

    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "stderr: {}", stderr(&applied));
    let none = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&none), 0);

    project.write("state/broken.yaml", "users: [\n");
    let error = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&error), 1);
    assert!(stdout(&error).is_empty(), "nothing on stdout on error");
}

#[test]
fn a_saved_plan_is_applied_as_saved() {
    let project = Project::example("quickstart");
    let plan = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&plan), 0, "stderr: {}", stderr(&plan));
    let saved: serde_json::Value =
        serde_json::from_str(&project.read("plan.json")).expect("plan file is JSON");
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["org_id"], "SANDBOX0000000000000000@AdobeOrg");
    assert!(
        saved["desired_state_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
    assert!(
        saved["preconditions"]["users"]
            .as_array()
            .is_some_and(|u| !u.is_empty())
    );

    // No --auto-approve: a plan file is the approval, and no terminal is needed.
    let apply = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 0, "stderr: {}", stderr(&apply));
    assert!(stdout(&apply).contains("Apply complete! 18 changes applied"));

    let after = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&after), 0, "{}", stdout(&after));
}

#[test]
fn a_saved_plan_is_refused_when_the_state_files_changed() {
    let project = Project::example("quickstart");
    assert_eq!(code(&project.run(&["plan", "-o", "plan.json"])), 0);
    let users = project
        .read("state/users.yaml")
        .replace("firstname: Robert", "firstname: Bobby");
    project.write("state/users.yaml", &users);

    let apply = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 1);
    assert!(
        stderr(&apply).contains("was made from different state files"),
        "{}",
        stderr(&apply)
    );
    assert!(project.org_is_unchanged(), "nothing was changed");
}

#[test]
fn without_a_terminal_apply_needs_approval_and_never_waits() {
    let project = Project::example("quickstart");
    let output = project
        .umapi(&["apply"])
        .write_stdin("yes\n")
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("--auto-approve"),
        "{}",
        stderr(&output)
    );
    assert!(project.org_is_unchanged(), "nothing was changed");
}

#[test]
fn test_only_changes_nothing() {
    let project = Project::example("quickstart");
    let before = project.run(&["plan", "--json"]);
    let output = project.run(&[
        "apply",
        "--auto-approve",
        "--test-only",
        "--report",
        "report.json",
    ]);
    let out = stdout(&output);
    assert!(
        out.contains("Test mode: ") && out.contains("nothing was changed"),
        "{out}\n{}",
        stderr(&output)
    );
    let report: serde_json::Value =
        serde_json::from_str(&project.read("report.json")).expect("report is JSON");
    assert_eq!(report["test_only"], true);

    assert_eq!(
        code(&output),
        0,
        "only test mode's blind spots failed: {out}"
    );
    assert!(
        out.contains("Not validated (1 change)"),
        "adding omar to the group the plan creates cannot be validated: {out}"
    );
    assert!(project.org_is_unchanged());
    let after = project.run(&["plan", "--json"]);
    assert_eq!(code(&after), 0);
    assert_eq!(stdout(&before), stdout(&after), "the org is as it was");
}

#[test]
fn export_then_plan_shows_no_changes() {
    let project = Project::example("quickstart");
    std::fs::remove_dir_all(project.file("state")).expect("remove state");

    let export = project.run(&["export"]);
    assert_eq!(code(&export), 0, "stderr: {}", stderr(&export));
    for file in ["users.yaml", "groups.yaml", "settings.yaml"] {
        assert!(
            project.file(&format!("state/{file}")).exists(),
            "{file} written"
        );
    }
    let users = project.read("state/users.yaml");
    assert!(
        users.contains("kate.smith@example.com"),
        "the seed org's users"
    );

    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}\n{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("No changes."));

    let again = project.run(&["export"]);
    assert_eq!(code(&again), 1, "export never overwrites state files");
    assert!(
        stderr(&again).contains("already holds state files"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn validate_needs_no_credentials_and_counts_the_state() {
    let project = Project::example("quickstart");
    let output = project.run(&["validate"]);
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    insta::assert_snapshot!(stdout(&output), @"The configuration and 3 state files are valid: 30 users, 5 user groups, 4 product profiles and 1 admin group.");
}

#[test]
fn a_snapshot_plans_offline_like_the_live_org() {
    let project = Project::example("quickstart");
    let export = project.run(&["export", "--snapshot", "org.json"]);
    assert_eq!(code(&export), 0, "stderr: {}", stderr(&export));
    let live = project.run(&["plan"]);

    // No connection can be made any more: no secret, nothing listening.
    let config = project.read("umapi.yaml");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: oauth\n  org_id: \"SANDBOX0000000000000000@AdobeOrg\"\n  \
         client_id: x\n  umapi_endpoint: http://127.0.0.1:9/v2/usermanagement\n  \
         ims_host: http://127.0.0.1:9\n",
    );
    let offline = project.run(&["plan", "--snapshot", "org.json"]);
    assert_eq!(code(&offline), 0, "stderr: {}", stderr(&offline));
    // The same plan; only the duration estimate differs, as an oauth
    // connection is paced at Adobe's 10 action requests per minute.
    let without_estimate = |text: String| {
        let cut = text.find("7 action requests").expect("estimate line");
        text[..cut].to_owned()
    };
    assert_eq!(
        without_estimate(stdout(&offline)),
        without_estimate(stdout(&live))
    );
    assert!(
        stdout(&offline).contains("at 10 requests per minute"),
        "{}",
        stdout(&offline)
    );
    project.write("umapi.yaml", &config);
}

#[test]
fn the_embedded_sandbox_shows_no_secret_at_the_highest_verbosity() {
    let project = Project::example("quickstart");
    let output = project.run(&["-vvv", "apply", "--auto-approve"]);
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(all.contains("TRACE"), "-vvv traces");
    assert!(
        !all.contains(crate::common::SANDBOX_SECRET),
        "the client secret leaked"
    );
    assert!(!all.to_lowercase().contains("bearer "), "a token leaked");
}
