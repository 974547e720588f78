//! How plans identify users, checked by running them on the sandbox's in-memory org
//! (`OrgState::execute`, the same rules as its HTTP endpoint): every entry must name the
//! user UMAPI would find, and planning again after applying must find nothing to do.

mod planner_support;

use planner_support::desired_from_yaml;
use umapi_core::wire::{Entry, IdentityType};
use umapi_sandbox::OrgState;
use umapi_sandbox::action::ExecOptions;
use umapi_sandbox::state::{UserGroupRecord, UserRecord};
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::snapshot::Snapshot;

fn record(email: &str, username: &str, identity_type: IdentityType, groups: &[&str]) -> UserRecord {
    UserRecord {
        id: format!("id-{email}-{identity_type}"),
        email: email.into(),
        username: username.into(),
        domain: email.rsplit_once('@').unwrap().1.into(),
        firstname: None,
        lastname: None,
        country: Some("US".into()),
        identity_type,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn group(group_id: u64, name: &str) -> UserGroupRecord {
    UserGroupRecord {
        group_id,
        name: name.into(),
        description: None,
        profiles: Vec::new(),
        read_only: false,
    }
}

/// An org with the groups `Eng` and `Ops` and the given users.
fn org(users: Vec<UserRecord>) -> OrgState {
    OrgState {
        users,
        user_groups: vec![group(1, "Eng"), group(2, "Ops")],
        ..OrgState::default()
    }
}

fn snapshot(state: &OrgState) -> Snapshot {
    Snapshot::from_parts(
        "org@AdobeOrg",
        state
            .users
            .iter()
            .map(|u| OrgState::wire_user(u, Some(u.groups.clone()))),
        state.wire_groups(),
    )
}

fn plan_for(state: &OrgState, yaml: &str) -> Plan {
    plan(
        &desired_from_yaml(yaml),
        &snapshot(state),
        &PlanOptions::default(),
    )
    .unwrap()
}

/// Runs every request of the plan in order; returns the errors the org answered.
fn apply(state: &mut OrgState, plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for phase in &plan.phases {
        for request in &phase.requests {
            let response = state
                .execute(&request.entries, ExecOptions::default())
                .unwrap_or_else(|e| panic!("request rejected: {e:?}"));
            for error in response.errors {
                errors.push(format!("{} {}", error.error_code, error.message));
            }
        }
    }
    errors
}

fn entries(plan: &Plan) -> Vec<&Entry> {
    plan.phases
        .iter()
        .flat_map(|p| &p.requests)
        .flat_map(|r| &r.entries)
        .collect()
}

fn counted(plan: &Plan) -> Vec<&ChangeKind> {
    plan.changes
        .iter()
        .filter(|c| c.kind.is_counted())
        .map(|c| &c.kind)
        .collect()
}

/// Applies the plan, expects no error, and expects planning again to find nothing.
fn converge(state: &mut OrgState, yaml: &str) -> Plan {
    let first = plan_for(state, yaml);
    let errors = apply(state, &first);
    assert!(errors.is_empty(), "{errors:?}\n{:#?}", entries(&first));
    let again = plan_for(state, yaml);
    assert!(
        counted(&again).is_empty(),
        "second plan: {:#?}",
        counted(&again)
    );
    first
}

fn user<'a>(state: &'a OrgState, email: &str) -> &'a UserRecord {
    state
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .unwrap_or_else(|| panic!("{email} is not in the org"))
}

#[test]
fn a_federated_id_whose_username_is_another_email_is_named_by_its_email() {
    // ActionsCmds.md: "For Federated IDs, you can update the `username` field for users
    // whose email address is in your domain. The `username` value can also be an email
    // address, but you can never use it to identify a user in requests."
    let mut state = org(vec![record(
        "kim@example.com",
        "k.lee@example.com",
        IdentityType::FederatedId,
        &["Eng"],
    )]);
    let yaml = "
users:
  - {email: kim@example.com, username: k.lee@example.com, groups: [Ops]}
groups:
  - name: Eng
  - name: Ops
";
    let plan = converge(&mut state, yaml);
    for entry in entries(&plan) {
        if let Entry::User(e) = entry {
            assert_eq!(e.user, "kim@example.com");
            assert_eq!(e.domain, None);
        }
    }
    assert_eq!(user(&state, "kim@example.com").groups, vec!["Ops"]);
}

#[test]
fn an_undeclared_federated_id_with_an_email_shaped_username_leaves_by_its_email() {
    // ActionsCmds.md: "The `username` value can also be an email address, but you can
    // never use it to identify a user in requests."
    let mut state = org(vec![
        record(
            "kim@example.com",
            "k.lee@example.com",
            IdentityType::FederatedId,
            &["Eng"],
        ),
        record(
            "ada@example.com",
            "ada@example.com",
            IdentityType::FederatedId,
            &[],
        ),
    ]);
    let yaml = "
users:
  - {email: ada@example.com}
groups:
  - name: Eng
settings:
  unlisted_users: remove_memberships
";
    converge(&mut state, yaml);
    assert!(user(&state, "kim@example.com").groups.is_empty());
}

#[test]
fn a_member_reference_by_email_shaped_username_is_not_the_user() {
    // ActionsCmds.md: "The `username` value can also be an email address, but you can
    // never use it to identify a user in requests." A member named by such a username is
    // therefore not kim, and kim keeps no membership.
    let state = org(vec![record(
        "kim@example.com",
        "k.lee@example.com",
        IdentityType::FederatedId,
        &[],
    )]);
    let plan = plan_for(
        &state,
        "
groups:
  - name: Eng
    members: [k.lee@example.com]
",
    );
    assert!(counted(&plan).is_empty(), "{:#?}", counted(&plan));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("k.lee@example.com")),
        "{:?}",
        plan.warnings
    );
}
