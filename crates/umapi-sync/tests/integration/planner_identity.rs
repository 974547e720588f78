//! How plans identify users, checked by running them on the sandbox's in-memory org
//! (`OrgState::execute`, the same rules as its HTTP endpoint): every entry must name the
//! user UMAPI would find, and planning again after applying must find nothing to do.

use crate::planner_support::desired_from_yaml;
use umapi_core::wire::{Entry, IdentityType, UserStep};
use umapi_sandbox::OrgState;
use umapi_sandbox::action::ExecOptions;
use umapi_sandbox::state::{UserGroupRecord, UserRecord};
use umapi_sync::current::Snapshot;
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, plan};

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

const KIM: &str = "
users:
  - {email: kim@example.com, username: k.lee@example.com, country: US, groups: [Eng]}
groups:
  - name: Eng
";

#[test]
fn a_declared_username_is_set_after_the_create_and_kept() {
    // ActionsCmds.md: "For Federated IDs, you can update the `username` field for users
    // whose email address is in your domain. The `username` value can also be an email
    // address, but you can never use it to identify a user in requests."
    let mut state = org(Vec::new());
    let plan = converge(&mut state, KIM);
    let Entry::User(create) = entries(&plan)[0] else {
        panic!("{:#?}", entries(&plan))
    };
    assert_eq!(create.user, "kim@example.com");
    assert!(matches!(create.steps[0], UserStep::CreateFederatedId(_)));
    assert!(
        matches!(&create.steps[1], UserStep::Update(u) if u.username.as_deref() == Some("k.lee@example.com")),
        "{create:#?}"
    );
    let kim = user(&state, "kim@example.com");
    assert_eq!(
        (kim.username.as_str(), kim.groups.as_slice()),
        ("k.lee@example.com", &["Eng".to_string()][..])
    );

    // Changed by hand in the Admin Console: the next plan puts it back.
    state.users[0].username = "kim.lee@example.com".into();
    let plan = plan_for(&state, KIM);
    assert!(
        matches!(counted(&plan)[..], [ChangeKind::RenameUser { fields, .. }]
            if fields[0].field == "username" && fields[0].new.as_deref() == Some("k.lee@example.com")),
        "{:#?}",
        counted(&plan)
    );
    converge(&mut state, KIM);
    assert_eq!(
        user(&state, "kim@example.com").username,
        "k.lee@example.com"
    );
}

#[test]
fn emails_differing_in_case_or_unicode_form_are_one_user_and_never_updated() {
    // ActionsCmds.md: "Federated IDs that are not email addresses, must supply the domain
    // the user belongs to in order to identify the user." An email names everyone else,
    // and the sandbox (like UMAPI) compares it without regard to case.
    let composed = "ren\u{e9}@example.com";
    let mut state = org(vec![record(
        "Ren\u{e9}@Example.com",
        "Ren\u{e9}@Example.com",
        IdentityType::FederatedId,
        &["Eng"],
    )]);
    assert_ne!(composed, "rene\u{301}@example.com");
    for spelling in [composed, "RENE\u{301}@EXAMPLE.COM"] {
        let yaml = format!(
            "users:\n  - {{email: \"{spelling}\", groups: [Eng]}}\ngroups:\n  - name: Eng\n"
        );
        let plan = plan_for(&state, &yaml);
        assert!(
            counted(&plan).is_empty(),
            "{spelling}: {:#?}",
            counted(&plan)
        );
        // A declared rename to another spelling of the same address changes nothing.
        let yaml = format!(
            "users:\n  - {{email: \"{spelling}\", previously: [old@example.com], groups: [Ops]}}\ngroups:\n  - name: Ops\n"
        );
        let plan = converge(&mut state, &yaml);
        assert_eq!(plan.summary.users_updated, 0, "{:#?}", counted(&plan));
        assert_eq!(user(&state, composed).email, "Ren\u{e9}@Example.com");
        state.users[0].groups = vec!["Eng".into()];
    }
}

#[test]
fn an_adobe_id_is_added_with_use_adobe_id_and_without_the_default_country() {
    // ActionsCmds.md, useAdobeID: "When true, the user ID is interpreted to refer to an
    // existing Adobe ID even if a Enterprise or Federated ID exists with the same name."
    let mut state = org(Vec::new());
    let yaml = "
users:
  - {email: ada@example.com, type: adobeID, groups: [Eng]}
groups:
  - name: Eng
settings:
  default_country: US
";
    let plan = converge(&mut state, yaml);
    let Entry::User(add) = entries(&plan)[0] else {
        panic!("{:#?}", entries(&plan))
    };
    assert_eq!(add.use_adobe_id, Some(true));
    let UserStep::AddAdobeId(fields) = &add.steps[0] else {
        panic!("{add:#?}")
    };
    assert_eq!(fields.country, None);
    let ada = user(&state, "ada@example.com");
    assert_eq!(ada.identity_type, IdentityType::AdobeId);
    assert_eq!(ada.country, None);
}

#[test]
fn an_adobe_id_beside_an_org_owned_account_with_its_email_is_its_own_user() {
    // ActionsCmds.md, useAdobeID: "When true, the user ID is interpreted to refer to an
    // existing Adobe ID even if a Enterprise or Federated ID exists with the same name."
    let mut state = org(vec![record(
        "ada@example.com",
        "ada@example.com",
        IdentityType::FederatedId,
        &["Ops"],
    )]);
    let yaml = "
users:
  - {email: ada@example.com, type: federatedID, groups: [Ops]}
  - {email: ada@example.com, type: adobeID, groups: [Eng]}
groups:
  - name: Eng
  - name: Ops
";
    let plan = converge(&mut state, yaml);
    assert_eq!(plan.summary.users_created, 1, "{:#?}", counted(&plan));
    let groups_of = |t: IdentityType| {
        state
            .users
            .iter()
            .find(|u| u.identity_type == t)
            .map(|u| u.groups.clone())
    };
    assert_eq!(
        groups_of(IdentityType::FederatedId),
        Some(vec!["Ops".into()])
    );
    assert_eq!(groups_of(IdentityType::AdobeId), Some(vec!["Eng".into()]));

    // Declared alone, the Adobe ID still does not take over the Federated ID.
    let mut state = org(vec![record(
        "ada@example.com",
        "ada@example.com",
        IdentityType::FederatedId,
        &[],
    )]);
    let yaml = "
users:
  - {email: ada@example.com, type: adobeID, groups: [Eng]}
groups:
  - name: Eng
";
    converge(&mut state, yaml);
    assert_eq!(state.users.len(), 2);
    assert!(user(&state, "ada@example.com").groups.is_empty());
}

#[test]
fn a_read_only_group_fails_with_an_explained_error() {
    // Adobe's documented 400 answers for user groups: "Attempting to add a user
    // membership of a readonly group" gives "errorCode":
    // "error.usergroup.readonly.add_user_not_allowed". UMAPI's group listing does not
    // say which groups are read-only, so the plan includes the change and the apply
    // summary explains the error.
    let mut state = org(vec![record(
        "ada@example.com",
        "ada@example.com",
        IdentityType::FederatedId,
        &[],
    )]);
    state.user_groups[0].read_only = true;
    let yaml = "
users:
  - {email: ada@example.com, groups: [Eng]}
groups:
  - name: Eng
";
    let plan = plan_for(&state, yaml);
    let errors = apply(&mut state, &plan);
    let [error] = &errors[..] else {
        panic!("{errors:?}")
    };
    let code = error.split(' ').next().unwrap();
    assert_eq!(code, "error.usergroup.readonly.add_user_not_allowed");
    let hint = umapi_sync::apply::error_hint(code).unwrap();
    assert!(hint.contains("settings.exclude.groups"), "{hint}");
    assert_eq!(
        umapi_sync::apply::error_hint("error.user.nonexistent"),
        None
    );
}

#[test]
fn an_enterprise_ids_username_is_reported_not_updated() {
    // ActionsCmds.md: "For Federated IDs, you can update the `username` field for users
    // whose email address is in your domain."
    let mut state = org(vec![record(
        "eve@example.com",
        "eve@example.com",
        IdentityType::EnterpriseId,
        &[],
    )]);
    let yaml = "
users:
  - {email: eve@example.com, username: e.v@example.com, type: enterpriseID}
";
    let plan = converge(&mut state, yaml);
    assert!(counted(&plan).is_empty(), "{:#?}", counted(&plan));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("e.v@example.com") && w.contains("Federated IDs only")),
        "{:?}",
        plan.warnings
    );
}
