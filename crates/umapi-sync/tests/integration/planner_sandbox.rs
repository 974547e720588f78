//! The snapshot and the planner against the real sandbox over HTTP: reading an org
//! across pages, and executing a plan's requests with the sandbox's own step
//! semantics until planning again finds nothing to do.

use std::time::Duration;

use umapi_core::wire::GroupType;
use umapi_core::{Connection, RateLimits, RetryPolicy};
use umapi_sandbox::{OrgSpec, Sandbox, SandboxConfig, SandboxHandle, generate};
use umapi_sync::current::{ReadProgress, Snapshot};
use umapi_sync::desired::{
    DesiredState, GroupSpec, ProfileSpec, Settings, UnlistedGroups, UnlistedUsers, UserSpec,
};
use umapi_sync::plan::Plan;
use umapi_sync::planner::{PlanOptions, plan};

const SPEC: OrgSpec = OrgSpec {
    users: 400,
    user_groups: 6,
    profiles: 4,
    seed: 5,
};

async fn sandbox() -> SandboxHandle {
    let config = SandboxConfig {
        user_page_size: 150,
        group_page_size: 4,
        ..SandboxConfig::default()
    };
    // Convergence, not licences: a generated org's small quotas would refuse the adds
    // (quotas have tests of their own, in planner_licences).
    let mut org = generate::org(&SPEC);
    for profile in &mut org.product_profiles {
        profile.license_quota = "UNLIMITED".into();
    }
    Sandbox::start(config, org).await.unwrap()
}

fn connect(sandbox: &SandboxHandle) -> Connection {
    sandbox
        .connection_builder()
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_snapshot_holds_every_user_and_group_with_direct_memberships() {
    let sandbox = sandbox().await;
    let state = sandbox.state();
    let mut progress = Vec::new();
    let snapshot = Snapshot::read(&connect(&sandbox), |p| progress.push(p))
        .await
        .unwrap();

    assert_eq!(snapshot.org_id, sandbox.org_id());
    assert_eq!(snapshot.users.len(), state.users.len());
    let groups = state.user_groups.len() + state.product_profiles.len() + state.admin_groups.len();
    assert_eq!(snapshot.groups.len(), groups);
    assert!(
        progress.contains(&ReadProgress::Users(state.users.len())),
        "{progress:?}"
    );
    assert!(matches!(progress.last(), Some(ReadProgress::Users(_))));
    // Direct memberships only: exactly what the server stores for each user.
    for record in &state.users {
        let user = snapshot
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some(record.email.as_str()))
            .unwrap();
        let mut stored = record.groups.clone();
        stored.sort_by_key(|g| g.to_lowercase());
        let groups: Vec<&str> = user.groups.iter().map(|g| &**g).collect();
        assert_eq!(groups, stored, "{}", record.email);
    }
    // Sorted, so the same org always gives the same file.
    let keys: Vec<_> = snapshot.users.iter().map(|u| u.key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

/// Sends every request of every phase in order, as the apply engine does.
async fn execute(conn: &Connection, plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for phase in &plan.phases {
        for request in &phase.requests {
            let response = conn.post_actions(&request.entries).await.unwrap();
            for error in response.errors {
                errors.push(format!(
                    "{:?}: {} {}",
                    phase.name, error.error_code, error.message
                ));
            }
        }
    }
    errors
}

#[tokio::test]
async fn executing_a_plan_on_the_sandbox_converges() {
    let sandbox = sandbox().await;
    let conn = connect(&sandbox);
    let before = Snapshot::read(&conn, |_| {}).await.unwrap();

    let user_groups: Vec<&str> = before
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::UserGroup)
        .map(|g| g.name.as_str())
        .collect();
    let profiles: Vec<&str> = before
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::ProductProfile)
        .map(|g| g.name.as_str())
        .collect();
    let (big, renamed, deleted) = (user_groups[0], user_groups[1], user_groups[2]);

    // Every existing user is declared; 300 of them join `big` (group entries), every
    // tenth joins two profiles (user entries), the last 20 are not declared (removed),
    // 30 users are new, one group is renamed, one created, one left undeclared (deleted).
    let mut users = Vec::new();
    for (i, user) in before
        .users
        .iter()
        .enumerate()
        .take(before.users.len() - 20)
    {
        let mut groups: Vec<String> = user
            .groups
            .iter()
            .filter(|g| !g.starts_with('_') && !g.eq_ignore_ascii_case(deleted))
            .map(|g| {
                if g.eq_ignore_ascii_case(renamed) {
                    "Renamed Team".to_string()
                } else {
                    g.to_string()
                }
            })
            .collect();
        if i < 300 && !groups.iter().any(|g| g.eq_ignore_ascii_case(big)) {
            groups.push(big.to_string());
        }
        if i % 10 == 0 {
            for p in &profiles[..2] {
                if !groups.iter().any(|g| g.eq_ignore_ascii_case(p)) {
                    groups.push(p.to_string());
                }
            }
        }
        users.push(UserSpec {
            email: user.email.clone(),
            identity_type: Some(user.identity_type),
            firstname: if i == 5 {
                Some("Renamed".into())
            } else {
                user.firstname.clone()
            },
            lastname: user.lastname.clone(),
            groups: groups.into_iter().map(Into::into).collect(),
            ..Default::default()
        });
    }
    for i in 0..30 {
        users.push(UserSpec {
            email: Some(format!("new{i}@example.com").into()),
            country: Some("DE".into()),
            groups: vec!["New Team".into(), profiles[3].to_string().into()],
            ..Default::default()
        });
    }
    let mut groups: Vec<GroupSpec> = user_groups
        .iter()
        .filter(|g| **g != renamed && **g != deleted)
        .map(|g| GroupSpec {
            name: g.to_string(),
            ..Default::default()
        })
        .collect();
    groups.push(GroupSpec {
        name: "Renamed Team".into(),
        previously: vec![renamed.to_string()],
        profiles: vec![profiles[0].to_string()],
        ..Default::default()
    });
    groups.push(GroupSpec {
        name: "New Team".into(),
        description: Some("Made by the planner test".into()),
        profiles: vec![profiles[1].to_string()],
        ..Default::default()
    });
    let desired = DesiredState {
        users,
        groups,
        profiles: profiles
            .iter()
            .map(|p| ProfileSpec {
                name: p.to_string(),
                ..ProfileSpec::default()
            })
            .collect(),
        settings: Settings {
            default_country: Some("US".into()),
            unlisted_users: UnlistedUsers::Remove,
            unlisted_groups: UnlistedGroups::Delete,
            ..Default::default()
        },
        ..Default::default()
    };

    let first = plan(&desired, &before, &PlanOptions::default()).unwrap();
    let s = &first.summary;
    assert!(
        s.users_created == 30
            && s.groups_created == 1
            && s.groups_renamed == 1
            && s.groups_deleted == 1,
        "{s:?}"
    );
    assert!(s.memberships_added > 300, "{s:?}");
    assert!(
        first.estimate.requests <= first.estimate.lower_bound_requests + 2,
        "{:?}",
        first.estimate
    );

    // Both kinds of membership entries are exercised.
    let entries: Vec<&umapi_core::wire::Entry> = first
        .phases
        .iter()
        .flat_map(|p| &p.requests)
        .flat_map(|r| &r.entries)
        .collect();
    assert!(entries.iter().any(|e| matches!(e, umapi_core::wire::Entry::UserGroup(g)
        if matches!(g.steps[0], umapi_core::wire::UserGroupStep::Add(umapi_core::wire::UserGroupTargets::Users { .. })))));
    assert!(
        entries
            .iter()
            .any(|e| matches!(e, umapi_core::wire::Entry::User(u)
        if matches!(u.steps[0], umapi_core::wire::UserStep::Add(_))))
    );

    let errors = execute(&conn, &first).await;
    assert!(errors.is_empty(), "{errors:#?}");

    let after = Snapshot::read(&conn, |_| {}).await.unwrap();
    let second = plan(&desired, &after, &PlanOptions::default()).unwrap();
    assert!(
        !second.has_changes(),
        "{}",
        umapi_sync::render::text(&second, false)
    );
    // The write-only links reached the server, under the new names.
    let state = sandbox.state();
    let linked = |name: &str| {
        state
            .user_groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.profiles.clone())
            .unwrap_or_default()
    };
    assert_eq!(linked("Renamed Team"), vec![profiles[0].to_string()]);
    assert_eq!(linked("New Team"), vec![profiles[1].to_string()]);
}

#[tokio::test]
async fn a_failing_listing_is_an_error_not_a_partial_snapshot() {
    use umapi_sandbox::{EndpointClass, Fault, FaultPlan, ScriptedFault};
    let sandbox = sandbox().await;
    let conn = connect(&sandbox);
    // The second users page fails with a 500, which is not retried.
    sandbox.set_faults(FaultPlan {
        script: [
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Delay { ms: 0 },
            },
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Status {
                    status: 500,
                    body: None,
                    retry_after: None,
                },
            },
        ]
        .into(),
        random: Vec::new(),
    });
    let result = Snapshot::read(&conn, |_| {}).await;
    let err = result.expect_err("a snapshot with a missing page");
    assert!(matches!(err, umapi_sync::Error::Api(_)), "{err}");
}

#[tokio::test]
async fn a_federated_id_whose_username_is_another_email_changes_groups_over_http() {
    // ActionsCmds.md: "The `username` value can also be an email address, but you can
    // never use it to identify a user in requests."
    let mut org = generate::org(&OrgSpec {
        users: 1,
        user_groups: 2,
        profiles: 1,
        seed: 9,
    });
    org.users[0].email = "kim@example.com".into();
    org.users[0].username = "k.lee@example.com".into();
    org.users[0].domain = "example.com".into();
    org.users[0].identity_type = umapi_core::wire::IdentityType::FederatedId;
    org.users[0].groups.clear();
    let group = org.user_groups[0].name.clone();
    let sandbox = Sandbox::start(SandboxConfig::default(), org).await.unwrap();
    let conn = connect(&sandbox);
    let desired = DesiredState {
        users: vec![UserSpec {
            email: Some("kim@example.com".into()),
            username: Some("k.lee@example.com".into()),
            groups: vec![group.clone().into()],
            ..Default::default()
        }],
        groups: vec![GroupSpec {
            name: group.clone(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let before = Snapshot::read(&conn, |_| {}).await.unwrap();
    let first = plan(&desired, &before, &PlanOptions::default()).unwrap();
    assert!(first.has_changes());
    assert_eq!(execute(&conn, &first).await, Vec::<String>::new());
    let after = Snapshot::read(&conn, |_| {}).await.unwrap();
    assert_eq!(after.users[0].groups, vec![group.into()]);
    let second = plan(&desired, &after, &PlanOptions::default()).unwrap();
    assert!(
        !second.has_changes(),
        "{}",
        umapi_sync::render::text(&second, false)
    );
}
