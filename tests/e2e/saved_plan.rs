//! A saved plan is a reviewed intention, not a program: `apply PLAN` plans again
//! from the state files, the org and the overrides the file records, refuses
//! when the file says anything else, and sends only the plan it made again.
//! Safety limits block a plan that removes too much, with defaults when none are
//! written, and `--allow` overrides one for a reviewed run.

use crate::common::{RemoteOrg, code, stderr, stdout};
use serde_json::{Value, json};

/// Saves the quickstart plan and returns it as JSON.
fn saved_plan(org: &RemoteOrg) -> Value {
    let plan = org.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&plan), 0, "stderr: {}", stderr(&plan));
    serde_json::from_str(&org.project.read("plan.json")).expect("plan file is JSON")
}

/// Applies the edited plan and checks it was refused, naming `path`, with the
/// org untouched.
fn assert_refused(org: &RemoteOrg, edited: &Value, path: &str) {
    org.project.write(
        "plan.json",
        &serde_json::to_string_pretty(edited).expect("JSON"),
    );
    let before = org.sandbox().state();
    let apply = org.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 1, "stdout: {}", stdout(&apply));
    let err = stderr(&apply);
    assert!(
        err.contains("is not the plan umapi makes from these state files and this org"),
        "{err}"
    );
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(err.contains(&format!("first difference: {path}")), "{err}");
    assert_eq!(
        org.sandbox().counters().action_requests,
        0,
        "no action request reached the org"
    );
    assert!(org.sandbox().state() == before, "the org is unchanged");
}

/// The path and value of the first entry whose first step is `step`.
fn entry_with_step<'a>(plan: &'a mut Value, step: &str) -> (String, &'a mut Value) {
    let phases = plan["phases"].as_array_mut().expect("phases");
    for (p, phase) in phases.iter_mut().enumerate() {
        for (r, request) in phase["requests"]
            .as_array_mut()
            .expect("requests")
            .iter_mut()
            .enumerate()
        {
            for (e, entry) in request["entries"]
                .as_array_mut()
                .expect("entries")
                .iter_mut()
                .enumerate()
            {
                if entry["do"][0].get(step).is_some() {
                    return (format!("phases[{p}].requests[{r}].entries[{e}]"), entry);
                }
            }
        }
    }
    panic!("no {step} entry in the plan");
}

#[test]
fn a_saved_plan_edited_to_delete_another_account_is_refused() {
    let org = RemoteOrg::quickstart();
    let mut plan = saved_plan(&org);
    // The reviewed plan removes a contractor from the org, keeping the account;
    // the edit removes Ada instead and deletes her account.
    let (path, entry) = entry_with_step(&mut plan, "removeFromOrg");
    assert_eq!(entry["do"][0]["removeFromOrg"]["deleteAccount"], false);
    entry["user"] = json!("ada.lovelace@example.com");
    entry["do"][0]["removeFromOrg"]["deleteAccount"] = json!(true);
    assert_refused(
        &org,
        &plan,
        &format!("{path}.do[0].removeFromOrg.deleteAccount"),
    );
    let org_now = org.sandbox().state();
    assert!(
        org_now
            .users
            .iter()
            .any(|u| u.email == "ada.lovelace@example.com"),
        "Ada is still in the org"
    );
}

#[test]
fn a_saved_plan_with_an_appended_entry_is_refused() {
    let org = RemoteOrg::quickstart();
    let mut plan = saved_plan(&org);
    let (path, entry) = entry_with_step(&mut plan, "removeFromOrg");
    let mut extra = entry.clone();
    extra["user"] = json!("grace.hopper@example.com");
    // `path` ends in `.entries[N]`; the appended entry goes after the last one.
    let entries_path = path.rsplit_once('[').expect("index").0.to_owned();
    let request_path: Vec<&str> = entries_path.split('.').collect();
    let (p, r) = (index_of(request_path[0]), index_of(request_path[1]));
    let entries = plan["phases"][p]["requests"][r]["entries"]
        .as_array_mut()
        .expect("entries");
    entries.push(extra);
    let appended = entries.len() - 1;
    assert_refused(&org, &plan, &format!("{entries_path}[{appended}]"));
}

fn index_of(step: &str) -> usize {
    step.rsplit_once('[')
        .and_then(|(_, i)| i.trim_end_matches(']').parse().ok())
        .expect("an index")
}

#[test]
fn a_saved_plan_with_an_edited_change_is_refused() {
    let org = RemoteOrg::quickstart();
    let mut plan = saved_plan(&org);
    // Only what people read changes: the entries sent stay as planned.
    let changes = plan["changes"].as_array_mut().expect("changes");
    let (index, change) = changes
        .iter_mut()
        .enumerate()
        .find(|(_, c)| c["kind"] == "remove_user")
        .expect("a remove_user change");
    change["user"] = json!("someone.else@example.com");
    assert_refused(&org, &plan, &format!("changes[{index}].user"));
}

#[test]
fn an_unedited_saved_plan_applies_and_leaves_nothing_to_do() {
    let org = RemoteOrg::quickstart();
    let plan = saved_plan(&org);
    assert_eq!(plan["blocked"], json!([]));
    assert_eq!(plan["overrides"], json!([]));
    let apply = org.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 0, "stderr: {}", stderr(&apply));
    assert!(
        stdout(&apply).contains("Apply complete!"),
        "{}",
        stdout(&apply)
    );
    assert_eq!(org.sandbox().counters().action_requests, 7);
    let after = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&after), 0, "{}", stdout(&after));
    assert!(stdout(&after).contains("No changes."));
}

#[test]
fn a_saved_plan_needs_the_state_files() {
    let org = RemoteOrg::quickstart();
    saved_plan(&org);
    std::fs::remove_dir_all(org.project.file("state")).expect("remove state");
    let apply = org.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 1);
    let err = stderr(&apply);
    assert!(
        err.contains("without the state files it was made from"),
        "{err}"
    );
    assert_eq!(org.sandbox().counters().action_requests, 0);
}

/// The quickstart with no `limits:` block, a users.yaml emptied down to one user
/// and `unlisted_users: delete`: every other user of the org but the excluded and
/// the administrators would be removed and deleted. (With no user at all the state
/// is refused before planning.)
fn emptied_org() -> RemoteOrg {
    let org = RemoteOrg::quickstart();
    let settings = org.project.read("state/settings.yaml");
    let settings = settings
        .split("  limits:")
        .next()
        .expect("settings")
        .replace("unlisted_users: remove", "unlisted_users: delete");
    org.project.write("state/settings.yaml", &settings);
    org.project.write(
        "state/users.yaml",
        "users:\n  - email: ada.lovelace@example.com\n    firstname: Ada\n    lastname: Lovelace\n    country: GB\n",
    );
    // Groups and profiles keep their declarations but lose their members.
    let groups = org.project.read("state/groups.yaml");
    let groups: String = groups
        .lines()
        .filter(|line| !line.trim_start().starts_with("- ") || line.contains("name:"))
        .filter(|line| !line.contains("members:"))
        .map(|line| format!("{line}\n"))
        .collect();
    org.project.write("state/groups.yaml", &groups);
    org
}

#[test]
fn emptying_the_org_is_blocked_by_the_default_limits() {
    let org = emptied_org();
    let users_before = org.sandbox().state().users.len();

    let plan = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 1, "blocked plans exit 1: {}", stdout(&plan));
    let out = stdout(&plan);
    assert!(
        out.contains("will be removed from the org and its account deleted"),
        "{out}"
    );
    assert!(
        out.contains("BLOCKED: this plan goes over a safety limit; nothing will be sent."),
        "{out}"
    );
    assert!(
        out.contains("max_user_removals = 10% (at least 5), the default:"),
        "{out}"
    );
    assert!(out.contains("--allow max_user_removals="), "{out}");
    assert!(
        stderr(&plan).contains("the plan is BLOCKED"),
        "{}",
        stderr(&plan)
    );

    let json = org.run(&["plan", "--json"]);
    assert_eq!(code(&json), 1);
    let document: Value = serde_json::from_str(&stdout(&json)).expect("JSON plan");
    let blocked = document["blocked"].as_array().expect("blocked");
    let users = blocked
        .iter()
        .find(|b| b["limit"] == "max_user_removals")
        .expect("max_user_removals blocks");
    assert_eq!(users["source"], "default");
    assert_eq!(users["total"], users_before as u64);
    assert_eq!(users["allowed"], 5);
    assert_eq!(users["affected"].as_array().map(Vec::len), Some(5));

    let markdown = org.run(&["plan", "--format", "markdown"]);
    assert_eq!(code(&markdown), 1);
    assert!(stdout(&markdown).contains("**BLOCKED: this plan goes over a safety limit"));

    let apply = org.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(code(&apply), 1);
    assert!(stdout(&apply).contains("BLOCKED"), "{}", stdout(&apply));
    let report: Value =
        serde_json::from_str(&org.project.read("report.json")).expect("report JSON");
    assert_eq!(report["success"], false);
    assert_eq!(report["requests_sent"], 0);
    assert!(report["blocked"].as_array().is_some_and(|b| !b.is_empty()));
    assert_eq!(
        org.sandbox().counters().action_requests,
        0,
        "nothing was sent"
    );
    assert_eq!(org.sandbox().state().users.len(), users_before);
}

#[test]
fn allow_lets_a_reviewed_plan_through_and_is_recorded() {
    let org = emptied_org();
    let users_before = org.sandbox().state().users.len();
    let plan = org.run(&["plan", "--json"]);
    let document: Value = serde_json::from_str(&stdout(&plan)).expect("JSON plan");
    let allow: Vec<String> = document["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .map(|b| format!("{}={}", b["limit"].as_str().expect("name"), b["planned"]))
        .collect();
    let mut args = vec!["plan", "-o", "plan.json"];
    for value in &allow {
        args.extend(["--allow", value.as_str()]);
    }
    let plan = org.run(&args);
    assert_eq!(code(&plan), 0, "stderr: {}", stderr(&plan));
    let out = stdout(&plan);
    assert!(!out.contains("BLOCKED"), "{out}");
    assert!(
        out.contains("Safety limits overridden for this plan (--allow):"),
        "{out}"
    );
    assert!(out.contains("max_user_removals = "), "{out}");
    let saved: Value = serde_json::from_str(&org.project.read("plan.json")).expect("JSON");
    assert_eq!(saved["blocked"], json!([]));
    assert_eq!(
        saved["overrides"].as_array().map(Vec::len),
        Some(allow.len())
    );

    // The saved plan carries its overrides; apply needs no --allow.
    let apply = org.run(&["apply", "plan.json", "--report", "report.json"]);
    assert_eq!(code(&apply), 0, "stderr: {}", stderr(&apply));
    assert!(stdout(&apply).contains("Safety limits overridden for this plan"));
    let report: Value =
        serde_json::from_str(&org.project.read("report.json")).expect("report JSON");
    assert_eq!(report["success"], true);
    assert_eq!(report["overrides"], saved["overrides"]);
    assert!(org.sandbox().state().users.len() < users_before);
}

#[test]
fn allow_is_checked_and_cannot_change_a_saved_plan() {
    let org = RemoteOrg::quickstart();
    let bad_name = org.run(&["plan", "--allow", "max_users=3"]);
    assert_eq!(code(&bad_name), 2, "clap's usage error");
    let err = stderr(&bad_name);
    assert!(err.contains("`max_users` is not a safety limit; the limits are max_user_removals, max_membership_removals, max_group_deletions"), "{err}");
    let bad_value = org.run(&["apply", "--allow", "max_user_removals=lots"]);
    assert_eq!(code(&bad_value), 2);
    assert!(stderr(&bad_value).contains("`lots` is not a value for max_user_removals"));

    saved_plan(&org);
    let apply = org.run(&["apply", "plan.json", "--allow", "max_user_removals=40"]);
    assert_eq!(code(&apply), 1);
    assert!(stderr(&apply).contains("--allow cannot change the saved plan"));
    assert_eq!(org.sandbox().counters().action_requests, 0);
}
