//! Write-only values (group descriptions and profile links) are sent only when
//! they change: the record `.umapi-written.json` beside umapi.yaml says what umapi
//! last wrote. Each test drives the binary against the quick start's embedded
//! sandbox, whose org persists between runs.

use crate::common::{Project, code, stderr, stdout};
use serde_json::Value;

const RECORD: &str = ".umapi-written.json";

/// Runs `apply --auto-approve --report` with `extra` flags and returns the report.
fn apply(project: &Project, extra: &[&str]) -> Value {
    let mut args = vec!["apply", "--auto-approve", "--report", "report.json"];
    args.extend_from_slice(extra);
    let output = project.run(&args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    serde_json::from_str(&project.read("report.json")).expect("report JSON")
}

fn plan_json(project: &Project, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--json"];
    args.extend_from_slice(extra);
    let output = project.run(&args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("plan JSON")
}

/// The `usergroup` of every entry the plan sends.
fn groups_sent(plan: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for phase in plan["phases"].as_array().expect("phases") {
        for request in phase["requests"].as_array().expect("requests") {
            for entry in request["entries"].as_array().expect("entries") {
                out.push(entry["usergroup"].as_str().unwrap_or("(user)").to_string());
            }
        }
    }
    out
}

/// The quick start applied once: converged, with the record written.
fn converged() -> Project {
    let project = Project::example("quickstart");
    let first = apply(&project, &[]);
    assert!(first["requests_sent"].as_u64().expect("requests") > 0);
    assert!(project.file(RECORD).exists(), "apply writes the record");
    project
}

#[test]
fn a_converged_org_sends_nothing_and_the_plan_is_quiet() {
    let project = converged();
    let report = apply(&project, &[]);
    assert_eq!(report["requests_sent"], 0);
    let plan = project.run(&["plan"]);
    assert_eq!(
        stdout(&plan),
        "No changes. The organization matches the configuration.\n"
    );
}

#[test]
fn a_changed_description_sends_one_request_for_that_group_only() {
    let project = converged();
    let groups = project.read("state/groups.yaml").replace(
        "Campaigns and communication",
        "Campaigns, events and communication",
    );
    project.write("state/groups.yaml", &groups);

    let plan = plan_json(&project, &[]);
    assert_eq!(groups_sent(&plan), ["Marketing"]);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["kind"], "reassert_group");
    assert_eq!(
        changes[0]["description"],
        "Campaigns, events and communication"
    );
    assert!(changes[0].get("profiles").is_none());

    let report = apply(&project, &[]);
    assert_eq!(report["requests_sent"], 1);
    assert_eq!(
        apply(&project, &[])["requests_sent"],
        0,
        "recorded after apply"
    );
}

#[test]
fn reassert_sends_every_declared_value_and_a_saved_plan_records_it() {
    let project = converged();
    let plan = plan_json(&project, &["--reassert"]);
    assert_eq!(plan["reassert"], true);
    let mut sent = groups_sent(&plan);
    sent.sort();
    assert_eq!(
        sent,
        [
            "Design",
            "Engineering",
            "Interns",
            "Marketing",
            "Sales and Partnerships"
        ]
    );

    // A saved plan is made again at apply time with the flag it records.
    let saved = project.run(&["plan", "--reassert", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let refused = project.run(&["apply", "plan.json", "--reassert"]);
    assert_eq!(code(&refused), 1);
    assert!(stderr(&refused).contains("--reassert cannot change the saved plan"));
    let applied = project.run(&["apply", "plan.json", "--report", "report.json"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    let report: Value = serde_json::from_str(&project.read("report.json")).expect("report");
    assert_eq!(report["requests_sent"], 1);

    assert_eq!(apply(&project, &["--reassert"])["requests_sent"], 1);
    assert_eq!(apply(&project, &[])["requests_sent"], 0);
}

#[test]
fn a_lost_record_resends_everything_once_then_is_quiet_again() {
    let project = converged();
    std::fs::remove_file(project.file(RECORD)).expect("delete record");
    let plan = plan_json(&project, &[]);
    assert_eq!(groups_sent(&plan).len(), 5, "every declared group once");
    assert_eq!(apply(&project, &[])["requests_sent"], 1);
    assert_eq!(apply(&project, &[])["requests_sent"], 0);
}

#[test]
fn a_corrupt_record_is_a_warning_and_treated_as_missing() {
    let project = converged();
    project.write(RECORD, "{ not json");
    let output = project.run(&["plan", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: ignoring the record of write-only values"),
        "{}",
        stderr(&output)
    );
    let plan: Value = serde_json::from_str(&stdout(&output)).expect("plan");
    assert_eq!(groups_sent(&plan).len(), 5);
    assert_eq!(apply(&project, &[])["requests_sent"], 1);
    assert_eq!(apply(&project, &[])["requests_sent"], 0, "rewritten");
}

#[test]
fn the_record_path_is_set_in_umapi_yaml() {
    let project = Project::example("quickstart");
    let config = project.read("umapi.yaml") + "write_only_cache: cache/written.json\n";
    project.write("umapi.yaml", &config);
    std::fs::create_dir_all(project.file("cache")).expect("mkdir");
    apply(&project, &[]);
    assert!(project.file("cache/written.json").exists());
    assert!(!project.file(RECORD).exists());
    assert_eq!(apply(&project, &[])["requests_sent"], 0);
}
