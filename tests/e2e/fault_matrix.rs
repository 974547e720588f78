//! The fault matrix: `umapi apply --auto-approve` against a sandbox that
//! throttles, fails, drops, truncates, stalls, expires tokens or misreports its
//! results, and a run killed with SIGKILL halfway. Whatever happens, the run
//! ends in success or a clean failure (exit 1, every failed command named, no
//! panic), and one more fault-free apply brings the org to exactly what an
//! uninterrupted run gives: nothing lost, nothing duplicated.

use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{RemoteOrg, SANDBOX_SECRET, code, stderr, stdout};
use serde_json::{Value, json};
use umapi_sandbox::observe::EndpointClass;
use umapi_sandbox::{Fault, FaultPlan, OrgState, RandomFault, ScriptedFault};

/// Action requests the quick start's plan sends.
const QUICKSTART_REQUESTS: u64 = 7;

/// A one-second timeout and three quick tries, so that a probe takes about a
/// second rather than the minutes of the default policy.
const FAST_RETRIES: &str = "  timeout_seconds: 1\n  retry:\n    max_attempts: 3\n    \
                            initial_backoff_seconds: 0\n    max_backoff_seconds: 0\n";

/// The quick start served by an in-test sandbox with `script` as its fault
/// plan, reached with fast retries.
fn org_with(script: Vec<ScriptedFault>) -> RemoteOrg {
    let org = RemoteOrg::quickstart();
    let config = org.project.read("umapi.yaml") + FAST_RETRIES;
    org.project.write("umapi.yaml", &config);
    org.sandbox().set_faults(FaultPlan {
        script: script.into(),
        random: Vec::new(),
    });
    org
}

/// `fault` on the action request number `n` (0-based) of the run, every
/// other request served normally.
fn on_action(n: usize, faults: impl IntoIterator<Item = Fault>) -> Vec<ScriptedFault> {
    let action = |fault| ScriptedFault {
        endpoint: Some(EndpointClass::Action),
        fault,
    };
    std::iter::repeat_n(Fault::Pass, n)
        .chain(faults)
        .map(action)
        .collect()
}

fn status(status: u16, retry_after: Option<&str>) -> Fault {
    Fault::Status {
        status,
        body: None,
        retry_after: retry_after.map(str::to_owned),
    }
}

/// The org without ids (the sandbox numbers new objects in creation order,
/// which a retry may change) and in a stable order, so that two orgs compare
/// equal exactly when they hold the same users, memberships and groups.
fn canonical(state: &OrgState) -> Value {
    let mut users: Vec<Value> = state
        .users
        .iter()
        .map(|u| {
            let mut groups: Vec<String> = u.groups.iter().map(|g| g.to_lowercase()).collect();
            groups.sort();
            json!({
                "email": u.email.to_lowercase(),
                "username": u.username.to_lowercase(),
                "domain": u.domain.to_lowercase(),
                "firstname": u.firstname,
                "lastname": u.lastname,
                "country": u.country,
                "type": u.identity_type,
                "groups": groups,
            })
        })
        .collect();
    users.sort_by_key(|u| u["email"].to_string());
    let mut groups: Vec<Value> = state
        .user_groups
        .iter()
        .map(|g| {
            let mut profiles: Vec<String> = g.profiles.iter().map(|p| p.to_lowercase()).collect();
            profiles.sort();
            json!({"name": g.name.to_lowercase(), "description": g.description, "profiles": profiles})
        })
        .collect();
    groups.sort_by_key(|g| g["name"].to_string());
    let mut profiles: Vec<String> = state
        .product_profiles
        .iter()
        .map(|p| p.name.to_lowercase())
        .collect();
    profiles.sort();
    let mut admin: Vec<String> = state
        .admin_groups
        .iter()
        .map(|a| a.name.to_lowercase())
        .collect();
    admin.sort();
    json!({"users": users, "user_groups": groups, "product_profiles": profiles, "admin_groups": admin})
}

/// No user twice, no group twice: what a retried create would leave behind.
fn assert_no_duplicates(state: &OrgState) {
    let mut emails: Vec<String> = state.users.iter().map(|u| u.email.to_lowercase()).collect();
    let users = emails.len();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), users, "a user exists twice");
    let mut names: Vec<String> = state
        .user_groups
        .iter()
        .map(|g| g.name.to_lowercase())
        .collect();
    let groups = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), groups, "a user group exists twice");
}

/// The org after a fault-free apply of the quick start.
fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let org = org_with(Vec::new());
        let apply = org.run(&["apply", "--auto-approve"]);
        assert_eq!(code(&apply), 0, "{}", stderr(&apply));
        assert_eq!(
            org.sandbox().counters().action_requests,
            QUICKSTART_REQUESTS
        );
        canonical(&org.sandbox().state())
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("json")
}

/// How the faulted run must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// Exit 0: the retries absorbed the fault.
    Success,
    /// Exit 1 with a summary naming what failed.
    CleanFailure,
}

/// The faulted run's output, and the action requests the sandbox executed
/// during it.
struct Probed {
    output: Output,
    executed: u64,
}

/// Runs the faulted apply, checks it ended as `ends` and honestly, then
/// checks that a fault-free re-run converges to the reference org.
fn probe(org: &RemoteOrg, ends: Ends) -> Probed {
    let first = org.run(&["apply", "--auto-approve", "--report", "report.json"]);
    let executed = action_requests(org);
    let (out, err) = (stdout(&first), stderr(&first));
    let context = format!("stdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{context}");
    let exit = first.status.code().expect("not killed by a signal");
    let report: Value = serde_json::from_str(&org.project.read("report.json")).expect("report");
    match ends {
        Ends::Success => {
            assert_eq!(exit, 0, "{context}");
            assert!(out.contains("Apply complete!"), "{context}");
            assert_eq!(report["success"], true, "{context}");
            // Success is only claimed when the org really is as declared.
            assert_eq!(
                pretty(&canonical(&org.sandbox().state())),
                pretty(reference()),
                "{context}"
            );
        }
        Ends::CleanFailure => {
            assert_eq!(exit, 1, "{context}");
            assert!(out.contains("Apply finished with errors"), "{context}");
            let failed = report["failed"].as_u64().expect("failed count");
            assert!(failed > 0, "{context}");
            assert!(
                out.contains(&format!("; {failed} failed, ")),
                "the summary's count is the report's: {context}"
            );
            let listed = out
                .split("Failed commands:\n")
                .nth(1)
                .expect("a list of failed commands")
                .lines()
                .take_while(|l| l.starts_with("  - "))
                .count();
            assert_eq!(listed as u64, failed, "every failure is named: {context}");
            assert!(err.contains("changes failed"), "{context}");
            assert_eq!(report["success"], false, "{context}");
        }
    }
    assert_no_duplicates(&org.sandbox().state());

    org.sandbox().set_faults(FaultPlan::default());
    let rerun = org.run(&["apply", "--auto-approve"]);
    assert_eq!(
        code(&rerun),
        0,
        "the fault-free re-run succeeds\n{}\n{}",
        stdout(&rerun),
        stderr(&rerun)
    );
    assert_converged(org);
    Probed {
        output: first,
        executed,
    }
}

/// `umapi plan` finds nothing to do and the org equals the reference.
fn assert_converged(org: &RemoteOrg) {
    let plan = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}\n{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("No changes"), "{}", stdout(&plan));
    let state = org.sandbox().state();
    assert_no_duplicates(&state);
    assert_eq!(pretty(&canonical(&state)), pretty(reference()));
}

fn action_requests(org: &RemoteOrg) -> u64 {
    org.sandbox().counters().action_requests
}

// Adobe's throttling page: "When the access limit is reached, further calls
// fail with one of the following HTTP error status responses: 429 Too Many
// Requests – You are being rate limited, delay before retry; 503 Service
// Unavailable – Global limits have been reached, delay before retry"
// (umapi-documentation, docs/en/throttle.md).

#[test]
fn throttled_with_retry_after_waits_as_told_and_succeeds() {
    let org = org_with(on_action(1, [status(429, Some("1"))]));
    let started = Instant::now();
    let run = probe(&org, Ends::Success);
    assert!(
        stderr(&run.output).contains("retrying in 1.0s (attempt 2 of 3)"),
        "{}",
        stderr(&run.output)
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        run.executed, QUICKSTART_REQUESTS,
        "each request executed once"
    );
}

#[test]
fn throttled_without_retry_after_backs_off_and_succeeds() {
    let org = org_with(on_action(0, [status(429, None), status(429, None)]));
    let run = probe(&org, Ends::Success);
    let err = stderr(&run.output);
    assert!(err.contains("attempt 3 of 3"), "{err}");
    assert_eq!(run.executed, QUICKSTART_REQUESTS);
}

#[test]
fn gateway_errors_are_retried_and_succeed() {
    let org = org_with(on_action(
        2,
        [
            status(502, None),
            status(503, None),
            Fault::Pass,
            status(504, None),
        ],
    ));
    let run = probe(&org, Ends::Success);
    let err = stderr(&run.output);
    for code in ["HTTP 502", "HTTP 503", "HTTP 504"] {
        assert!(err.contains(code), "{code}: {err}");
    }
    assert_eq!(run.executed, QUICKSTART_REQUESTS);
}

#[test]
fn a_gateway_error_on_every_try_fails_that_request_cleanly() {
    let org = org_with(on_action(3, std::iter::repeat_n(status(503, None), 3)));
    let run = probe(&org, Ends::CleanFailure);
    let out = stdout(&run.output);
    assert!(out.contains("request_failed"), "{out}");
    assert_eq!(
        run.executed,
        QUICKSTART_REQUESTS - 1,
        "the failed one never ran"
    );
}

#[test]
fn an_internal_server_error_is_not_retried_and_fails_cleanly() {
    let org = org_with(on_action(1, [status(500, None)]));
    let run = probe(&org, Ends::CleanFailure);
    let out = stdout(&run.output);
    assert!(out.contains("HTTP 500"), "{out}");
    assert_eq!(
        run.executed,
        QUICKSTART_REQUESTS - 1,
        "the failed one never ran"
    );
}

#[test]
fn a_dropped_connection_is_retried_and_succeeds() {
    let org = org_with(on_action(4, [Fault::Drop]));
    let run = probe(&org, Ends::Success);
    assert_eq!(run.executed, QUICKSTART_REQUESTS);
}

/// The failed commands of a run whose first action request was executed but
/// its answer lost: the retry executed it again, and the repeats of the
/// rename fail as "not found". Each failure must say that the lost attempt
/// may have done it.
fn assert_lost_attempt_named(run: &Probed) {
    let out = stdout(&run.output);
    assert!(
        out.contains(
            "rename user group Sales to Sales and Partnerships: error.usergroup.not_found"
        ),
        "{out}"
    );
    let failures: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Failed commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  - "))
        .collect();
    for line in failures {
        assert!(line.contains("UMAPI may have applied it already"), "{line}");
    }
    assert_eq!(
        run.executed,
        QUICKSTART_REQUESTS + 1,
        "the lost one ran twice"
    );
}

#[test]
fn a_response_truncated_after_the_server_committed_is_reported_as_possibly_applied() {
    // The first request creates Interns and renames Sales; a create is sent
    // with ignoreIfAlreadyExists, a rename cannot be repeated.
    let org = org_with(on_action(0, [Fault::Truncated]));
    let run = probe(&org, Ends::CleanFailure);
    assert_lost_attempt_named(&run);
}

#[test]
fn a_response_slower_than_the_timeout_after_the_server_committed_is_reported_as_possibly_applied() {
    let org = org_with(on_action(0, [Fault::DelayAfter { ms: 1500 }]));
    let run = probe(&org, Ends::CleanFailure);
    assert!(stderr(&run.output).contains("timed out"));
    assert_lost_attempt_named(&run);
}

#[test]
fn a_lost_answer_on_a_request_that_can_be_repeated_is_absorbed() {
    // The sixth request only adds and removes memberships: executing it twice
    // leaves the same org, so the retry's clean answer is the truth.
    let org = org_with(on_action(5, [Fault::Truncated]));
    let run = probe(&org, Ends::Success);
    assert_eq!(
        run.executed,
        QUICKSTART_REQUESTS + 1,
        "the lost one ran twice"
    );
}

#[test]
fn a_slow_response_before_the_server_acts_is_retried_and_succeeds() {
    let org = org_with(on_action(2, [Fault::Delay { ms: 1500 }]));
    let run = probe(&org, Ends::Success);
    let err = stderr(&run.output);
    assert!(err.contains("attempt 2 of 3"), "{err}");
}

#[test]
fn a_token_expired_mid_run_is_refreshed_and_succeeds() {
    let org = org_with(on_action(3, [Fault::ExpireToken]));
    probe(&org, Ends::Success);
    assert!(org.sandbox().counters().tokens_issued >= 2);
}

/// A 200 that reports errors the server did not commit anything for.
fn misreported(errors: Value) -> Fault {
    Fault::Status {
        status: 200,
        body: Some(
            json!({"completed": 0, "notCompleted": 1, "completedInTestMode": 0,
                          "result": "partial", "errors": errors}),
        ),
        retry_after: None,
    }
}

#[test]
fn an_error_with_an_out_of_range_entry_index_fails_the_request_cleanly() {
    let org = org_with(on_action(
        1,
        [misreported(json!([{"index": 99, "step": 0,
            "errorCode": "error.internal", "message": "no such entry"}]))],
    ));
    probe(&org, Ends::CleanFailure);
}

#[test]
fn an_error_with_an_out_of_range_step_fails_the_request_cleanly() {
    let org = org_with(on_action(
        1,
        [misreported(json!([{"index": 0, "step": 40,
            "errorCode": "error.internal", "message": "no such step"}]))],
    ));
    probe(&org, Ends::CleanFailure);
}

#[test]
fn an_error_with_a_negative_index_fails_the_request_cleanly() {
    let org = org_with(on_action(
        1,
        [misreported(json!([{"index": -1, "step": 0,
            "errorCode": "error.internal", "message": "negative"}]))],
    ));
    probe(&org, Ends::CleanFailure);
}

#[test]
fn an_error_with_its_step_as_a_string_fails_the_request_cleanly() {
    // Adobe's action reference types `step` as "_string_; The 0-based index
    // of the action step within that command entry" while its examples send
    // numbers (umapi-documentation, docs/en/api/ActionsRef.md).
    let org = org_with(on_action(
        1,
        [misreported(json!([{"index": 0, "step": "0",
            "errorCode": "error.internal", "message": "step as text"}]))],
    ));
    probe(&org, Ends::CleanFailure);
}

#[test]
fn an_error_without_any_position_fails_the_request_cleanly() {
    let org = org_with(on_action(
        1,
        [misreported(
            json!([{"errorCode": "error.internal", "message": "somewhere"}]),
        )],
    ));
    probe(&org, Ends::CleanFailure);
}

#[test]
fn a_committed_request_reported_with_bogus_errors_converges() {
    let org = org_with(on_action(
        2,
        [Fault::Rewrite {
            body: json!({"completed": 0, "notCompleted": 1, "completedInTestMode": 0,
                "result": "partial", "errors": [{"index": 1000, "step": 1000,
                "errorCode": "error.internal", "message": "lost track"}]}),
        }],
    ));
    let run = probe(&org, Ends::CleanFailure);
    let out = stdout(&run.output);
    assert!(out.contains("lost track"), "{out}");
}

#[test]
fn faults_while_reading_the_org_fail_cleanly_or_are_retried() {
    let read = |endpoint, fault| ScriptedFault {
        endpoint: Some(endpoint),
        fault,
    };
    let org = org_with(vec![
        read(EndpointClass::Token, status(503, None)),
        read(EndpointClass::Users, Fault::Drop),
        read(EndpointClass::Users, Fault::Truncated),
        read(EndpointClass::Groups, status(502, None)),
    ]);
    probe(&org, Ends::Success);

    let org = org_with(vec![read(EndpointClass::Groups, Fault::Malformed)]);
    let output = org.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"));
    assert_eq!(
        action_requests(&org),
        0,
        "nothing is sent from an unreadable org"
    );
}

/// X + Y + Z of the plan's `Plan: X to add, Y to change, Z to remove.` line.
fn changes_in_plan(text: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("a plan line in {text}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse::<u64>().expect("number"))
        .sum()
}

/// The quick start plus `count` new users, one action request per ten.
fn many_users(org: &RemoteOrg, count: usize) {
    let mut yaml = String::from("users:\n");
    for i in 0..count {
        yaml.push_str(&format!(
            "  - email: bulk.user{i:03}@example.com\n    firstname: Bulk\n    \
             lastname: User{i:03}\n    country: US\n    groups: [Marketing]\n"
        ));
    }
    org.project.write("state/bulk.yaml", &yaml);
}

#[test]
fn an_apply_killed_with_sigkill_halfway_converges_on_the_next_run() {
    const USERS: usize = 120;
    // What an uninterrupted run leaves.
    let clean = org_with(Vec::new());
    many_users(&clean, USERS);
    let apply = clean.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    let planned = clean.sandbox().counters().action_requests;
    let total_changes = changes_in_plan(&stdout(&apply));
    assert!(planned >= 15, "a long change set: {planned} requests");
    let uninterrupted = canonical(&clean.sandbox().state());
    drop(clean);

    let org = org_with(Vec::new());
    many_users(&org, USERS);
    // Every action request takes 100 ms, so the kill lands mid-run.
    org.sandbox().set_faults(FaultPlan {
        script: Default::default(),
        random: vec![RandomFault {
            endpoint: Some(EndpointClass::Action),
            probability: 1.0,
            fault: Fault::Delay { ms: 100 },
        }],
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_umapi"))
        .current_dir(org.project.path())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("UMAPI_CLIENT_SECRET", SANDBOX_SECRET)
        .arg("-c")
        .arg(org.project.file("umapi.yaml"))
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start umapi");
    let deadline = Instant::now() + Duration::from_secs(20);
    while action_requests(&org) < 5 {
        assert!(Instant::now() < deadline, "the apply never got going");
        assert!(child.try_wait().expect("poll").is_none(), "it ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reap");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    let sent_before_kill = action_requests(&org);
    assert!(sent_before_kill < planned, "killed before the end");

    org.sandbox().set_faults(FaultPlan::default());
    let rerun = org.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(code(&rerun), 0, "{}\n{}", stdout(&rerun), stderr(&rerun));
    let report: Value = serde_json::from_str(&org.project.read("report.json")).expect("report");
    let done = report["succeeded"].as_u64().expect("succeeded");
    assert!(done > 0, "the re-run finished the job");
    assert_eq!(report["failed"], 0);
    assert!(
        report["requests_sent"].as_u64().expect("requests") < planned,
        "the re-run sends only what is left"
    );
    // The summary counts exactly what the re-run planned, which is less than
    // the whole change set: the killed run had done the rest.
    let out = stdout(&rerun);
    let planned_changes = changes_in_plan(&out);
    assert!(
        out.contains(&format!(
            "Apply complete! {planned_changes} changes applied"
        )),
        "{out}"
    );
    assert!(planned_changes < total_changes, "{out}");
    let plan = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}", stdout(&plan));
    let state = org.sandbox().state();
    assert_no_duplicates(&state);
    assert_eq!(pretty(&canonical(&state)), pretty(&uninterrupted));
}
