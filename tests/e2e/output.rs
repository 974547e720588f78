//! What users see: the quick start's plan, apply and second run, as insta
//! snapshots of stdout (stderr is checked to hold no result).

use crate::common::{Project, code, stderr, stdout};

#[test]
fn quickstart_plan_text() {
    let project = Project::example("quickstart");
    let output = project.run(&["plan"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).is_empty(),
        "no logs by default: {}",
        stderr(&output)
    );
    insta::assert_snapshot!("quickstart_plan", stdout(&output));
}

#[test]
fn quickstart_plan_markdown() {
    let project = Project::example("quickstart");
    let output = project.run(&["plan", "--format", "markdown"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    insta::assert_snapshot!("quickstart_plan_markdown", project.redact(&stdout(&output)));
}

#[test]
fn quickstart_apply_and_second_run() {
    let project = Project::example("quickstart");
    let first = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let out = stdout(&first);
    let summary = &out[out.find("\nApply").expect("summary")..];
    insta::assert_snapshot!("quickstart_apply_summary", summary);

    let second = project.run(&["plan"]);
    assert_eq!(code(&second), 0);
    insta::assert_snapshot!("quickstart_second_plan", stdout(&second));
}

#[test]
fn colour_only_when_asked() {
    let project = Project::example("quickstart");
    let plain = project.run(&["plan"]);
    assert!(
        !stdout(&plain).contains('\u{1b}'),
        "not a terminal: no colour"
    );
    let forced = project
        .umapi(&["--color", "always", "plan"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    assert!(
        stdout(&forced).contains("\u{1b}["),
        "--color always colours"
    );
}

#[test]
fn json_plan_is_the_saved_plan() {
    let project = Project::example("quickstart");
    let output = project.run(&["plan", "--json", "-o", "plan.json"]);
    assert_eq!(code(&output), 0);
    let printed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let saved: serde_json::Value = serde_json::from_str(&project.read("plan.json")).expect("JSON");
    assert_eq!(printed, saved);
    assert_eq!(printed["summary"]["users_created"], 2);
    assert_eq!(printed["summary"]["groups_deleted"], 1);
}
