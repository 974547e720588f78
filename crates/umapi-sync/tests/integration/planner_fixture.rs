//! The fixture org with every kind of change: what the planner decides, request by request.

use umapi_core::wire::{Entry, UserGroupStep, UserStep};
use umapi_sync::plan::{ChangeKind, PLAN_FORMAT_VERSION, PhaseName, Plan};
use umapi_sync::planner::{PlanOptions, plan};

fn fixture_plan() -> Plan {
    let (desired, org) = crate::planner_support::fixture();
    plan(&desired, &org, &PlanOptions::default()).unwrap()
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| {
            serde_json::to_value(&c.kind).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn every_kind_of_change_is_planned() {
    let plan = fixture_plan();
    let kinds = kinds(&plan);
    for kind in [
        "create_group",
        "rename_group",
        "delete_group",
        "reassert_group",
        "create_user",
        "update_user",
        "rename_user",
        "add_membership",
        "remove_membership",
        "remove_user",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let s = &plan.summary;
    assert_eq!((s.to_add, s.to_change, s.to_remove), (5, 3, 4));
    // Unlisted users are deleted, except the Adobe ID, which can only be removed.
    assert_eq!((s.users_deleted, s.users_removed), (1, 1));
}

#[test]
fn phases_run_in_the_documented_order() {
    let plan = fixture_plan();
    let names: Vec<PhaseName> = plan.phases.iter().map(|p| p.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 7, "{names:?}");
}

#[test]
fn excluded_and_admin_users_are_left_alone() {
    let plan = fixture_plan();
    let json = plan.to_json();
    assert!(!json.contains("svc-backup"), "an excluded user was touched");
    assert!(
        plan.changes.iter().all(|c| !matches!(&c.kind, ChangeKind::RemoveUser { user, .. } if user == "boss@example.com")),
        "an org admin was removed"
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("boss@example.com") && w.contains("_org_admin"))
    );
    assert!(!json.contains("\"_org_admin\""), "{json}");
}

#[test]
fn identity_type_and_country_differences_are_warnings() {
    let plan = fixture_plan();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("dave@example.net") && w.contains("identity type"))
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("carol@example.com") && w.contains("country"))
    );
    let json = plan.to_json();
    assert!(
        !json.contains("\"country\": \"CA\""),
        "a country change was planned"
    );
}

#[test]
fn usernames_without_email_are_addressed_with_their_domain() {
    let plan = fixture_plan();
    let entry = plan
        .phases
        .iter()
        .flat_map(|p| &p.requests)
        .flat_map(|r| &r.entries)
        .find_map(|e| match e {
            Entry::User(u) if u.user == "jdoe" => Some(u.clone()),
            _ => None,
        })
        .expect("an entry for jdoe");
    assert_eq!(entry.domain.as_deref(), Some("example.com"));
}

#[test]
fn renames_use_update_steps_on_the_old_names() {
    let plan = fixture_plan();
    let entries: Vec<&Entry> = plan
        .phases
        .iter()
        .flat_map(|p| &p.requests)
        .flat_map(|r| &r.entries)
        .collect();
    assert!(entries.iter().any(|e| matches!(e, Entry::UserGroup(g) if g.usergroup == "Design"
        && matches!(&g.steps[0], UserGroupStep::Update(u) if u.name.as_deref() == Some("Product Design")))));
    assert!(entries.iter().any(|e| matches!(e, Entry::User(u) if u.user == "old.name@example.com"
        && matches!(&u.steps[0], UserStep::Update(x) if x.email.as_deref() == Some("new.name@example.com")))));
}

#[test]
fn a_fresh_snapshot_passes_and_a_changed_one_is_stale() {
    let (_, mut org) = crate::planner_support::fixture();
    let plan = fixture_plan();
    assert_eq!(plan.check_fresh(&org), Ok(()));
    // Someone renamed Carol and added Erin by hand since the plan was made.
    let carol = org
        .users
        .iter_mut()
        .find(|u| u.email.as_deref() == Some("carol@example.com"))
        .unwrap();
    carol.lastname = Some("Other".into());
    carol.groups.retain(|g| &**g != "Engineering");
    org.users.push(umapi_sync::current::SnapshotUser {
        email: Some("erin@example.com".into()),
        ..Default::default()
    });
    let problems = plan.check_fresh(&org).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("carol@example.com") && p.contains("lastname")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("carol@example.com") && p.contains("Engineering")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("erin@example.com") && p.contains("now exists")),
        "{problems:?}"
    );
}

#[test]
fn changes_outside_the_plan_do_not_make_it_stale() {
    let (_, mut org) = crate::planner_support::fixture();
    let plan = fixture_plan();
    let ada = org
        .users
        .iter_mut()
        .find(|u| u.email.as_deref() == Some("ada@example.com"))
        .unwrap();
    ada.firstname = Some("Augusta".into());
    assert_eq!(plan.check_fresh(&org), Ok(()));
}

#[test]
fn saved_plans_of_another_version_are_refused() {
    let current = format!("\"format_version\": {PLAN_FORMAT_VERSION}");
    // Format 1 wrote the key of a user without email as `username@domain`, which
    // reads as an email: such plans are refused rather than compared wrongly.
    for other in [1, PLAN_FORMAT_VERSION + 1] {
        let json =
            fixture_plan()
                .to_json()
                .replacen(&current, &format!("\"format_version\": {other}"), 1);
        let err = Plan::from_reader(json.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("format_version {other} is not supported")),
            "{err}"
        );
    }
}

#[test]
fn groups_created_or_deleted_by_hand_make_the_plan_stale() {
    let (_, mut org) = crate::planner_support::fixture();
    let plan = fixture_plan();
    // Marketing (to be created) now exists; Legacy (to be deleted) is gone.
    org.groups.push(umapi_sync::current::SnapshotGroup {
        name: "Marketing".into(),
        group_type: umapi_core::wire::GroupType::UserGroup,
        member_count: Some(0),
        product_name: None,
        license_quota: None,
    });
    org.groups.retain(|g| g.name != "Legacy");
    let problems = plan.check_fresh(&org).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Marketing") && p.contains("was absent")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Legacy") && p.contains("now absent")),
        "{problems:?}"
    );
}
