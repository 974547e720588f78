//! Entries the server refuses as too long are re-packed into smaller ones and sent
//! again, and the report says so.
//!
//! Adobe's action documentation (adobe-apiplatform/umapi-documentation,
//! src/pages/ref/ActionsCmds.md) says of the `add` step: "Adds a user as a member
//! of a group. You can add a maximum of 10 memberships in one command entry." and
//! of removal: "You can remove a maximum of 10 memberships in one command entry".
//! Adobe's Python client reads it as 10 names per list (up to 10 steps of 10 names
//! in one entry), as umapi's default packing does; the sandbox can enforce the
//! strict reading (10 names per entry in total), and umapi must converge under both.

use crate::common::{RemoteOrg, code, stderr, stdout};
use serde_json::Value;

/// Fifteen users of the quick start's seed org, all in one new group: an entry
/// of the group with 15 names (two steps) under the default packing.
const ALL_HANDS: &str = "
  - name: All Hands
    members:
      - ada.lovelace@example.com
      - grace.hopper@example.com
      - alan.turing@example.com
      - margaret.hamilton@example.com
      - dennis.ritchie@example.com
      - barbara.liskov@example.com
      - ken.thompson@example.com
      - frances.allen@example.com
      - john.backus@example.com
      - mia.wong@example.com
      - paul.rand@example.com
      - susan.kare@example.com
      - milton.glaser@example.com
      - paula.scher@example.com
      - leo.burnett@example.com
";

fn with_all_hands(org: &RemoteOrg) {
    let groups = org.project.read("state/groups.yaml");
    let groups = groups.replacen("groups:\n", &format!("groups:{ALL_HANDS}"), 1);
    org.project.write("state/groups.yaml", &groups);
}

fn apply(org: &RemoteOrg) -> (Value, String) {
    let output = org.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = serde_json::from_str(&org.project.read("report.json")).expect("report");
    (report, stdout(&output))
}

fn converged(org: &RemoteOrg) {
    let plan = org.run(&["plan"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("No changes."),
        "not converged:\n{}",
        stdout(&plan)
    );
}

#[test]
fn the_strict_reading_of_the_limit_is_met_by_re_packing() {
    let org = RemoteOrg::quickstart_with(umapi_sandbox::SandboxConfig {
        max_names_per_entry: Some(10),
        ..Default::default()
    });
    with_all_hands(&org);
    let (report, summary) = apply(&org);
    let repacked = report["repacked"]
        .as_array()
        .unwrap_or_else(|| panic!("re-packed entries reported: {report}\n{summary}"));
    assert!(!repacked.is_empty());
    assert_eq!(
        repacked[0]["error_code"],
        "error.command.add_remove.list_too_long"
    );
    assert!(repacked[0]["names_per_step"].as_u64().expect("names") <= 10);
    assert!(
        summary.contains("re-packed") && summary.contains("after list_too_long"),
        "{summary}"
    );
    assert_eq!(report["failed"], 0);
    converged(&org);
}

#[test]
fn the_default_reading_needs_no_re_packing() {
    let org = RemoteOrg::quickstart();
    with_all_hands(&org);
    let (report, summary) = apply(&org);
    assert!(report.get("repacked").is_none(), "{report}");
    assert!(!summary.contains("re-packed"));
    converged(&org);
}

#[test]
fn packing_sizes_from_umapi_yaml_avoid_the_refusal() {
    let org = RemoteOrg::quickstart_with(umapi_sandbox::SandboxConfig {
        max_names_per_entry: Some(10),
        ..Default::default()
    });
    with_all_hands(&org);
    let config =
        org.project.read("umapi.yaml") + "packing:\n  names_per_step: 10\n  steps_per_entry: 1\n";
    org.project.write("umapi.yaml", &config);
    let (report, _) = apply(&org);
    assert!(report.get("repacked").is_none(), "{report}");
    converged(&org);
}

#[test]
fn a_packing_size_over_the_protocol_maximum_is_a_located_error() {
    let org = RemoteOrg::quickstart();
    let config = org.project.read("umapi.yaml") + "packing:\n  names_per_step: 50\n";
    org.project.write("umapi.yaml", &config);
    let output = org.run(&["plan"]);
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    assert!(err.contains("umapi.yaml:"), "{err}");
    assert!(
        err.contains("packing.names_per_step is 50, but UMAPI accepts 1 to 10"),
        "{err}"
    );
}

/// The embedded sandbox of `umapi.yaml` can enforce the strict reading too, so a user
/// can rehearse it without writing code.
#[test]
fn the_embedded_sandbox_enforces_the_strict_reading_from_umapi_yaml() {
    let project = crate::common::Project::example("quickstart");
    let groups = project.read("state/groups.yaml");
    project.write(
        "state/groups.yaml",
        &groups.replacen("groups:\n", &format!("groups:{ALL_HANDS}"), 1),
    );
    let config = project.read("umapi.yaml").replace(
        "  kind: sandbox\n",
        "  kind: sandbox\n  memberships_per_entry: 10\n",
    );
    project.write("umapi.yaml", &config);
    let output = project.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: Value = serde_json::from_str(&project.read("report.json")).unwrap();
    assert!(
        report["repacked"].as_array().is_some_and(|r| !r.is_empty()),
        "{report}"
    );
    let plan = project.run(&["plan"]);
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));

    project.write(
        "umapi.yaml",
        &config.replace("memberships_per_entry: 10", "memberships_per_entry: 0"),
    );
    let refused = project.run(&["validate"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("`memberships_per_entry` must be at least 1"),
        "{}",
        stderr(&refused)
    );
}

/// A request the server refuses whole (HTTP 400) ran nothing, so its entries go again in
/// smaller requests: here a server that takes at most 3 commands per request, where
/// Adobe documents 10.
#[test]
fn a_request_refused_whole_is_sent_again_split() {
    let org = RemoteOrg::quickstart_with(umapi_sandbox::SandboxConfig {
        max_entries: 3,
        ..Default::default()
    });
    let (report, summary) = apply(&org);
    let repacked = report["repacked"]
        .as_array()
        .unwrap_or_else(|| panic!("split requests reported: {report}\n{summary}"));
    let split = &repacked[0];
    assert_eq!(split["error_code"], "HTTP 400");
    assert!(
        split["entries_per_request"].as_u64().expect("size") < split["entries"].as_u64().unwrap()
    );
    assert!(summary.contains("split a request of"), "{summary}");
    assert_eq!(report["failed"], 0, "{report}");
    // Later requests are cut to the size that went through before they are sent.
    let splits = repacked
        .iter()
        .filter(|r| r["error_code"] == "HTTP 400")
        .count();
    assert!(splits <= 2, "{repacked:?}");
    converged(&org);
}
