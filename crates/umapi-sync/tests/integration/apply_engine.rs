//! The apply engine against the sandbox over HTTP, with the sandbox running the
//! entries of each request in a shuffled order, as UMAPI may.

use umapi_core::{Connection, RateLimits, RetryPolicy};
use umapi_sandbox::{OrgSpec, OrgState, Sandbox, SandboxConfig, SandboxHandle};
use umapi_sync::apply::{ApplyEvent, ApplyOptions, ApplyReport, ChangeStatus, apply};
use umapi_sync::current::Snapshot;
use umapi_sync::plan::{ChangeKind, PhaseName, Plan};
use umapi_sync::planner::{PlanOptions, plan};

async fn sandbox(org: OrgState, seed: u64) -> SandboxHandle {
    let config = SandboxConfig {
        shuffle_entries: true,
        seed,
        ..SandboxConfig::default()
    };
    Sandbox::start(config, org).await.expect("sandbox starts")
}

fn connect(sandbox: &SandboxHandle, test_mode: bool) -> Connection {
    sandbox
        .connection_builder()
        .rate_limits(RateLimits::unlimited())
        .retry_policy(RetryPolicy::no_delay())
        .test_mode(test_mode)
        .build()
        .expect("connection")
}

/// A desired state that creates the user group `Launch`, puts 25 existing users
/// (declared as they are) and 5 new users in it, and leaves everything else as it is.
fn launch_state(snapshot: &Snapshot) -> String {
    let existing: Vec<_> = snapshot
        .users
        .iter()
        .filter(|u| u.email.is_some() && u.username.as_deref().is_none_or(|n| n.contains('@')))
        .take(25)
        .collect();
    let mut yaml = String::from(
        "settings:\n  default_country: US\ngroups:\n  - name: Launch\n    description: Launch team\n    members:\n",
    );
    for user in &existing {
        yaml.push_str(&format!(
            "      - {}\n",
            user.email.as_deref().unwrap_or_default()
        ));
    }
    yaml.push_str("users:\n");
    for user in &existing {
        yaml.push_str(&format!(
            "  - email: {}\n    type: {}\n",
            user.email.as_deref().unwrap_or_default(),
            user.identity_type
        ));
        for (key, value) in [("firstname", &user.firstname), ("lastname", &user.lastname)] {
            if let Some(value) = value {
                yaml.push_str(&format!("    {key}: \"{value}\"\n"));
            }
        }
    }
    for i in 0..5 {
        yaml.push_str(&format!(
            "  - email: new{i}@example.com\n    country: US\n    groups: [Launch]\n"
        ));
    }
    yaml
}

async fn plan_for(conn: &Connection, yaml: &str) -> (Snapshot, Plan) {
    let snapshot = Snapshot::read(conn, |_| {}).await.expect("read org");
    let desired = umapi_sync::desired::load_str("launch.yaml", yaml)
        .unwrap_or_else(|error| panic!("invalid state: {error}\n{yaml}"));
    let options = PlanOptions {
        pacing: RateLimits::unlimited(),
        ..PlanOptions::default()
    };
    let plan = plan(&desired, &snapshot, &options).unwrap_or_else(|error| panic!("{error}"));
    (snapshot, plan)
}

fn org() -> OrgState {
    umapi_sandbox::generate::org(&OrgSpec {
        users: 60,
        user_groups: 4,
        profiles: 3,
        seed: 7,
    })
}

async fn run(conn: &Connection, plan: &Plan) -> (ApplyReport, Vec<ApplyEvent>) {
    let mut events = Vec::new();
    let report = apply(conn, plan, ApplyOptions::default(), |e| events.push(e)).await;
    (report, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_join_a_group_the_same_plan_creates_whatever_the_entry_order() {
    for seed in 0..6 {
        let sandbox = sandbox(org(), seed).await;
        let conn = connect(&sandbox, false);
        let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
        let (_, plan) = plan_for(&conn, &yaml).await;
        assert!(plan.has_changes());

        let (report, _) = run(&conn, &plan).await;
        assert!(
            report.is_success(),
            "seed {seed}: {:?}",
            report.failures().collect::<Vec<_>>()
        );
        assert_eq!(report.failed, 0);
        assert_eq!(report.succeeded, plan.changes.len());
        assert_eq!(report.requests_sent, plan.request_count());

        let (_, again) = plan_for(&conn, &yaml).await;
        assert!(!again.has_changes(), "seed {seed}: converged in one apply");
        let members = sandbox
            .state()
            .users
            .iter()
            .filter(|u| u.groups.iter().any(|g| g == "Launch"))
            .count();
        assert_eq!(members, 30, "seed {seed}");
        sandbox.shutdown().await;
    }
}

/// Adobe's action documentation (adobe-apiplatform/umapi-documentation,
/// src/pages/ref/ActionsCmds.md): "Adds a user as a member of a group. You can add a
/// maximum of 10 memberships in one command entry." Read strictly (10 names per
/// entry in total, not per list), the default packing's entries are refused; the
/// engine re-packs them and the plan still converges in one apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_refused_as_too_long_are_re_packed_and_the_plan_converges() {
    let config = SandboxConfig {
        shuffle_entries: true,
        max_names_per_entry: Some(10),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config, org()).await.expect("sandbox starts");
    let conn = connect(&sandbox, false);
    let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    let (_, plan) = plan_for(&conn, &yaml).await;
    let (report, _) = run(&conn, &plan).await;
    assert!(
        report.is_success(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert!(
        !report.repacked.is_empty(),
        "the 25 names of Launch are refused"
    );
    let repack = &report.repacked[0];
    assert_eq!(repack.error_code, umapi_sync::apply::LIST_TOO_LONG);
    assert!(
        repack.names_per_step * repack.steps_per_entry <= 10,
        "{repack:?}"
    );
    assert!(report.requests_sent > plan.request_count());
    let (_, again) = plan_for(&conn, &yaml).await;
    assert!(!again.has_changes(), "converged in one apply");
    sandbox.shutdown().await;
}

/// Once a size got refused entries through, later entries are cut to it before
/// they are sent: only the first oversized entry of a run is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_that_went_through_is_used_for_the_rest_of_the_run() {
    let config = SandboxConfig {
        max_names_per_entry: Some(10),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config, org()).await.expect("sandbox starts");
    let conn = connect(&sandbox, false);
    let launch = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    // A second group with the same 25 existing members: two group entries of 25
    // names, one request each.
    let members_start = launch.find("    members:\n").expect("members");
    let members_end = launch.find("users:\n").expect("users");
    let members = &launch[members_start..members_end];
    let yaml = launch.replacen(
        "groups:\n",
        &format!("groups:\n  - name: Second\n{members}"),
        1,
    );
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read org");
    let desired = umapi_sync::desired::load_str("launch.yaml", &yaml).expect("state");
    let options = PlanOptions {
        pacing: RateLimits::unlimited(),
        packing: umapi_sync::planner::Packing {
            entries_per_request: 1,
            ..Default::default()
        },
        ..PlanOptions::default()
    };
    let plan = plan(&desired, &snapshot, &options).expect("plan");
    let oversized = plan
        .phases
        .iter()
        .flat_map(|p| &p.requests)
        .filter(|r| r.changes[0].iter().map(Vec::len).sum::<usize>() > 10)
        .count();
    assert!(
        oversized >= 2,
        "two requests with an entry of over 10 names"
    );
    let (report, _) = run(&conn, &plan).await;
    assert!(
        report.is_success(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(report.repacked.len(), 1, "{:?}", report.repacked);
    let (_, again) = plan_for(&conn, &yaml).await;
    assert!(!again.has_changes(), "converged in one apply");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phases_run_in_order_and_each_finishes_before_the_next_starts() {
    let sandbox = sandbox(org(), 1).await;
    let conn = connect(&sandbox, false);
    let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    let (_, plan) = plan_for(&conn, &yaml).await;
    let (_, events) = run(&conn, &plan).await;

    let mut open: Option<PhaseName> = None;
    let mut order = Vec::new();
    for event in &events {
        match event {
            ApplyEvent::PhaseStarted { phase, .. } => {
                assert!(
                    open.is_none(),
                    "{phase:?} started while {open:?} was running"
                );
                open = Some(*phase);
                order.push(*phase);
            }
            ApplyEvent::RequestStarted { phase, .. } => assert_eq!(Some(*phase), open),
            ApplyEvent::PhaseFinished { phase, .. } => {
                assert_eq!(Some(*phase), open);
                open = None;
            }
            _ => {}
        }
    }
    let planned: Vec<PhaseName> = plan.phases.iter().map(|p| p.name).collect();
    assert_eq!(order, planned);
    let reported = events
        .iter()
        .filter(|e| matches!(e, ApplyEvent::Change(_)))
        .count();
    assert_eq!(
        reported,
        plan.changes.len(),
        "every change's result is reported once"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_command_is_reported_with_the_servers_code_and_the_rest_still_run() {
    let sandbox = sandbox(org(), 2).await;
    let conn = connect(&sandbox, false);
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read");
    let yaml = launch_state(&snapshot);
    let (_, plan) = plan_for(&conn, &yaml).await;

    // One user the plan adds to Launch leaves the org before the plan is applied.
    let gone = plan
        .changes
        .iter()
        .find_map(|c| match &c.kind {
            ChangeKind::AddMembership { user, .. } if !user.starts_with("new") => {
                Some(user.clone())
            }
            _ => None,
        })
        .expect("an existing user is added");
    let mut state = sandbox.state();
    state.users.retain(|u| !u.email.eq_ignore_ascii_case(&gone));
    sandbox.set_state(state).expect("set state");

    let (report, _) = run(&conn, &plan).await;
    assert!(!report.is_success());
    let failures: Vec<_> = report.failures().collect();
    let named_gone = failures.iter().find(|f| {
        matches!(&plan.changes[f.change as usize].kind,
            ChangeKind::AddMembership { user, .. } if *user == gone)
    });
    let named_gone = named_gone.expect("the change naming the departed user failed");
    assert_eq!(
        named_gone.error_code.as_deref(),
        Some("error.user.not_found")
    );
    // The rest still ran: the group, the new users, the re-assertion.
    assert!(report.succeeded >= 6, "{report:?}");
    // A failed step ends its entry: the later steps' changes are reported as not run.
    assert!(failures.iter().all(|f| {
        f.error_code.as_deref() == Some("error.user.not_found")
            || f.error_code.as_deref() == Some(umapi_sync::apply::NOT_RUN)
    }));
    assert_eq!(report.succeeded + report.failed, plan.changes.len());

    // The report says exactly what happened: a membership add succeeded if and
    // only if the user is in the group now.
    let state = sandbox.state();
    for result in &report.changes {
        if let ChangeKind::AddMembership { user, group, .. } =
            &plan.changes[result.change as usize].kind
        {
            let member = state.users.iter().any(|u| {
                u.email.eq_ignore_ascii_case(user)
                    && u.groups.iter().any(|g| g.eq_ignore_ascii_case(group))
            });
            assert_eq!(
                member,
                result.status == ChangeStatus::Succeeded,
                "{user} in {group}: {result:?}"
            );
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mode_commits_nothing_and_flags_what_it_cannot_see() {
    let sandbox = sandbox(org(), 3).await;
    let before = sandbox.state();
    let conn = connect(&sandbox, true);
    let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    let (_, plan) = plan_for(&conn, &yaml).await;

    let (report, _) = run(&conn, &plan).await;
    assert!(report.test_only);
    assert_eq!(sandbox.state(), before, "nothing committed");
    assert!(
        report.is_success(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert!(
        report.unverified > 0,
        "adds to the group the plan creates cannot be validated"
    );
    assert!(
        report
            .changes
            .iter()
            .all(|c| matches!(c.status, ChangeStatus::Validated | ChangeStatus::Unverified))
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_fails_as_a_whole_fails_only_its_own_changes() {
    use umapi_sandbox::observe::EndpointClass;
    use umapi_sandbox::{Fault, FaultPlan, ScriptedFault};

    let sandbox = sandbox(org(), 4).await;
    let conn = connect(&sandbox, false);
    let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    let (_, plan) = plan_for(&conn, &yaml).await;
    let last_phase = plan.phases.last().expect("phases");
    let in_last_request = last_phase
        .requests
        .last()
        .expect("requests")
        .changes
        .iter()
        .flatten()
        .flatten()
        .count();

    // Pass every request but the last.
    let mut script: std::collections::VecDeque<ScriptedFault> = (0..plan.request_count() - 1)
        .map(|_| ScriptedFault {
            endpoint: Some(EndpointClass::Action),
            fault: Fault::Pass,
        })
        .collect();
    script.push_back(ScriptedFault {
        endpoint: Some(EndpointClass::Action),
        fault: Fault::Status {
            status: 400,
            body: None,
            retry_after: None,
        },
    });
    sandbox.set_faults(FaultPlan {
        script,
        random: Vec::new(),
    });

    let (report, _) = run(&conn, &plan).await;
    assert_eq!(report.requests_failed, 1);
    assert!(report.failed > 0 && report.failed <= in_last_request);
    assert!(
        report
            .failures()
            .all(|f| f.error_code.as_deref() == Some("request_failed"))
    );
    assert_eq!(report.succeeded + report.failed, plan.changes.len());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_after_failed_phase_sends_nothing_after_a_failed_phase() {
    use umapi_sandbox::observe::EndpointClass;
    use umapi_sandbox::{Fault, FaultPlan, ScriptedFault};

    let sandbox = sandbox(org(), 5).await;
    let conn = connect(&sandbox, false);
    let yaml = launch_state(&Snapshot::read(&conn, |_| {}).await.expect("read"));
    let (_, plan) = plan_for(&conn, &yaml).await;
    assert!(plan.phases.len() >= 2, "{:?}", plan.phases);
    let first_phase_requests = plan.phases[0].requests.len();
    // Every request of the first phase fails as a whole.
    sandbox.set_faults(FaultPlan {
        script: (0..first_phase_requests)
            .map(|_| ScriptedFault {
                endpoint: Some(EndpointClass::Action),
                fault: Fault::Status {
                    status: 400,
                    body: None,
                    retry_after: None,
                },
            })
            .collect(),
        random: Vec::new(),
    });

    let mut events = Vec::new();
    let options = ApplyOptions {
        stop_after_failed_phase: true,
    };
    let report = apply(&conn, &plan, options, |e| events.push(e)).await;
    assert_eq!(
        report.requests_sent, first_phase_requests,
        "nothing sent after the failure"
    );
    assert!(report.skipped > 0);
    assert_eq!(
        report.succeeded + report.failed + report.skipped,
        plan.changes.len()
    );
    let skipped_phases = events
        .iter()
        .filter(|e| matches!(e, ApplyEvent::PhaseSkipped { .. }))
        .count();
    assert_eq!(skipped_phases, plan.phases.len() - 1);
    assert!(!report.is_success());
    sandbox.shutdown().await;
}
