//! The planner's rules one by one: exclusions, unlisted policies, renames, matching,
//! missing profiles, safety limits and packing choices.

use umapi_core::wire::{Entry, GroupType, IdentityType, UserGroupStep, UserStep};
use umapi_sync::Error;
use umapi_sync::current::Snapshot;
use umapi_sync::desired::Location;
use umapi_sync::plan::{ChangeKind, PhaseName, Plan};
use umapi_sync::planner::{PlanOptions, plan};

use crate::planner_support::{desired_from_yaml, group, user};

/// An org with users a..e in "Eng", a in profile "PP", e an org admin, plus
/// an unmanaged group "Other".
fn org() -> Snapshot {
    Snapshot::from_parts(
        "ORG@AdobeOrg",
        vec![
            user("a@x.com", &["Eng", "PP"]),
            user("b@x.com", &["Eng"]),
            user("c@x.com", &["Eng", "Other"]),
            user("svc-d@x.com", &["Eng"]),
            user("e@x.com", &["_org_admin", "Eng"]),
        ],
        vec![
            group("Eng", GroupType::UserGroup),
            group("Other", GroupType::UserGroup),
            group("Old", GroupType::UserGroup),
            group("PP", GroupType::ProductProfile),
            group("_admin_Eng", GroupType::UserAdminGroup),
            group("_org_admin", GroupType::SysadminGroup),
        ],
    )
}

fn run(yaml: &str) -> Plan {
    plan(&desired_from_yaml(yaml), &org(), &PlanOptions::default()).unwrap()
}

fn run_err(yaml: &str) -> Error {
    plan(&desired_from_yaml(yaml), &org(), &PlanOptions::default()).unwrap_err()
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.kind.is_counted())
        .map(|c| match &c.kind {
            ChangeKind::AddMembership { user, group, .. } => format!("+{user} {group}"),
            ChangeKind::RemoveMembership { user, group, .. } => format!("-{user} {group}"),
            ChangeKind::RemoveUser {
                user,
                delete_account,
                ..
            } => {
                format!(
                    "leave {user}{}",
                    if *delete_account { " delete" } else { "" }
                )
            }
            ChangeKind::CreateUser { user, .. } => format!("create {user}"),
            ChangeKind::UpdateUser { user, .. } => format!("update {user}"),
            ChangeKind::RenameUser { user, from, .. } => format!("rename {from} {user}"),
            ChangeKind::CreateGroup { group, .. } => format!("create group {group}"),
            ChangeKind::RenameGroup { group, from } => format!("rename group {from} {group}"),
            ChangeKind::DeleteGroup { group, .. } => format!("delete group {group}"),
            ChangeKind::ReassertGroup { .. } => unreachable!(),
        })
        .collect()
}

const ALL_LISTED: &str = "
users:
  - {email: a@x.com, groups: [Eng]}
  - {email: b@x.com, groups: [Eng]}
  - {email: c@x.com, groups: [Eng]}
";

#[test]
fn matching_is_case_insensitive() {
    let plan = run("
users:
  - {email: A@X.COM, groups: [eng]}
  - {email: B@x.com, groups: [ENG]}
groups:
  - name: ENG
");
    // c, svc-d and e are unlisted (ignored); a and b match despite case.
    assert!(changes(&plan).is_empty(), "{:?}", changes(&plan));
}

#[test]
fn unlisted_users_ignore_leaves_everything() {
    let plan = run(&format!(
        "{ALL_LISTED}groups: [{{name: Eng}}]\nsettings: {{unlisted_users: ignore}}"
    ));
    assert!(changes(&plan).is_empty(), "{:?}", changes(&plan));
}

#[test]
fn unlisted_users_remove_memberships_only_touches_managed_groups() {
    let plan = run("
users:
  - {email: a@x.com, groups: [Eng]}
groups: [{name: Eng}]
settings: {unlisted_users: remove_memberships}
");
    // c keeps "Other" (unmanaged); e keeps _org_admin.
    assert_eq!(
        changes(&plan),
        vec![
            "-b@x.com Eng",
            "-c@x.com Eng",
            "-e@x.com Eng",
            "-svc-d@x.com Eng"
        ]
    );
}

#[test]
fn unlisted_users_remove_and_delete_spare_administrators() {
    let yaml = |policy: &str| {
        format!("{ALL_LISTED}groups: [{{name: Eng}}]\nsettings: {{unlisted_users: {policy}}}")
    };
    let plan = run(&yaml("remove"));
    assert_eq!(changes(&plan), vec!["leave svc-d@x.com"]);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("e@x.com") && w.contains("admin roles"))
    );
    let plan = run(&yaml("delete"));
    assert_eq!(changes(&plan), vec!["leave svc-d@x.com delete"]);
    let leave = plan
        .phases
        .iter()
        .find(|p| p.name == PhaseName::UsersLeavingOrg)
        .unwrap();
    assert!(matches!(&leave.requests[0].entries[0], Entry::User(u)
        if matches!(u.steps[..], [UserStep::RemoveFromOrg(r)] if r.delete_account)));
}

#[test]
fn excluded_users_are_never_touched() {
    let base = format!("{ALL_LISTED}groups: [{{name: Eng}}]\n");
    // By regex.
    let plan = run(&format!(
        "{base}settings: {{unlisted_users: remove, exclude: {{users: ['^SVC-']}}}}"
    ));
    assert!(changes(&plan).is_empty(), "{:?}", changes(&plan));
    // By identity type.
    let plan = run(&format!(
        "{base}settings: {{unlisted_users: remove, exclude: {{types: [federatedID]}}}}"
    ));
    assert!(changes(&plan).is_empty(), "{:?}", changes(&plan));
    // By membership of an excluded group: c is in Other.
    let plan = run("
users:
  - {email: a@x.com, groups: []}
groups: [{name: Eng}]
settings: {unlisted_users: remove_memberships, exclude: {groups: [other]}}
");
    let c = changes(&plan);
    assert!(c.contains(&"-a@x.com Eng".to_string()));
    assert!(!c.iter().any(|x| x.contains("c@x.com")), "{c:?}");
}

#[test]
fn unlisted_groups_are_deleted_only_when_asked() {
    let plan = run("groups: [{name: Eng}]");
    assert!(changes(&plan).is_empty());
    let plan = run("groups: [{name: Eng, previously: []}]\nsettings: {unlisted_groups: delete}");
    assert_eq!(
        changes(&plan),
        vec!["delete group Old", "delete group Other"]
    );
    let plan = run(
        "groups: [{name: Eng}]\nsettings: {unlisted_groups: delete, exclude: {groups: [Other]}}",
    );
    assert_eq!(changes(&plan), vec!["delete group Old"]);
}

#[test]
fn previously_renames_users_and_groups() {
    let plan = run("
users:
  - {email: a2@x.com, previously: [A@x.com], groups: [Engineering]}
groups:
  - {name: Engineering, previously: [Eng]}
settings: {unlisted_groups: delete}
");
    let c = changes(&plan);
    assert!(
        c.contains(&"rename group Eng Engineering".to_string()),
        "{c:?}"
    );
    assert!(c.contains(&"rename a@x.com a2@x.com".to_string()), "{c:?}");
    // The renamed group is not deleted, and nobody is removed from it.
    assert!(
        !c.iter().any(|x| x.starts_with("delete group Eng")),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.starts_with('-')), "{c:?}");
}

#[test]
fn undeclared_profiles_and_admin_groups_are_errors_with_locations() {
    let mut desired =
        desired_from_yaml("profiles: [{name: Nope}]\nadmin_groups: [{name: _admin_Nope}]");
    let location = Location {
        file: "state/profiles.yaml".into(),
        line: 3,
        column: 5,
    };
    desired.origins.insert("nope".into(), location.clone());
    let err = plan(&desired, &org(), &PlanOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("state/profiles.yaml:3:5: product profile `Nope` does not exist in the org"),
        "{text}"
    );
    assert!(text.contains("cannot be created through the API"), "{text}");
    assert!(
        text.contains("admin group `_admin_Nope` does not exist"),
        "{text}"
    );
}

#[test]
fn org_admin_cannot_be_managed() {
    let err = run_err("admin_groups: [{name: _org_admin, members: [a@x.com]}]");
    assert!(
        err.to_string().contains("`_org_admin` cannot be managed"),
        "{err}"
    );
}

#[test]
fn declared_admin_groups_are_managed_like_profiles() {
    let plan = run("
users:
  - {email: a@x.com, groups: [_admin_Eng, PP]}
  - {email: b@x.com}
admin_groups: [{name: _admin_Eng, members: [b@x.com]}]
profiles: [{name: PP}]
");
    assert_eq!(
        changes(&plan),
        vec!["+a@x.com _admin_Eng", "+b@x.com _admin_Eng"]
    );
    // Admin groups and profiles only take user entries.
    for request in plan.phases.iter().flat_map(|p| &p.requests) {
        assert!(request.entries.iter().all(|e| matches!(e, Entry::User(_))));
    }
}

#[test]
fn federated_users_need_a_country_to_be_created() {
    let err = run_err("users: [{email: new@x.com}]");
    assert!(err.to_string().contains("a country is required"), "{err}");
    let plan = run("users: [{email: new@x.com, country: DE}]");
    assert_eq!(changes(&plan), vec!["create new@x.com"]);
}

#[test]
fn adobe_ids_are_not_updated() {
    let mut snapshot = org();
    snapshot.users[0].identity_type = IdentityType::AdobeId;
    let desired = desired_from_yaml("users: [{email: a@x.com, type: adobeID, firstname: New}]");
    let plan = plan(&desired, &snapshot, &PlanOptions::default()).unwrap();
    assert!(changes(&plan).is_empty());
    assert!(plan.warnings.iter().any(|w| w.contains("Adobe ID")));
}

#[test]
fn limits_block_the_plan_and_name_the_numbers() {
    use umapi_sync::desired::LimitName;
    use umapi_sync::plan::LimitSource;
    let blocked = |yaml: &str| run(yaml).blocked;

    let found = blocked(
        "users: [{email: a@x.com}]\nsettings: {unlisted_users: remove, limits: {max_user_removals: 1}}",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let b = &found[0];
    assert_eq!(
        (
            b.limit,
            b.source,
            b.setting.as_str(),
            b.planned,
            b.allowed,
            b.total
        ),
        (
            LimitName::MaxUserRemovals,
            LimitSource::Settings,
            "1",
            3,
            1,
            5
        )
    );
    assert_eq!(b.affected.len() as u64 + b.more, 3);

    let found = blocked(
        "groups: [{name: Eng}]\nsettings: {unlisted_users: remove_memberships, limits: {max_membership_removals: '50%'}}",
    );
    assert_eq!(
        found
            .iter()
            .map(|b| (b.limit, b.planned, b.allowed, b.total))
            .collect::<Vec<_>>(),
        vec![(LimitName::MaxMembershipRemovals, 5, 2, 5)]
    );

    let found = blocked(
        "groups: [{name: Eng}]\nsettings: {unlisted_groups: delete, limits: {max_group_deletions: 1}}",
    );
    assert_eq!(found[0].limit, LimitName::MaxGroupDeletions);
    assert_eq!(found[0].planned, 2);

    // At the limit is fine.
    assert!(blocked(
        "groups: [{name: Eng}]\nsettings: {unlisted_groups: delete, limits: {max_group_deletions: 2}}",
    )
    .is_empty());
}

#[test]
fn unset_limits_have_defaults_with_floors_and_off_switches_one_off() {
    use umapi_sync::desired::{Limit, LimitName, LimitOverride};
    use umapi_sync::plan::LimitSource;
    // The floors: a small org may always lose 5 users, 10 memberships, 2 groups.
    assert_eq!(LimitName::MaxUserRemovals.default_allowance(32), 5);
    assert_eq!(LimitName::MaxUserRemovals.default_allowance(100), 10);
    assert_eq!(
        LimitName::MaxUserRemovals.default_allowance(109),
        10,
        "rounded down"
    );
    assert_eq!(LimitName::MaxMembershipRemovals.default_allowance(20), 10);
    assert_eq!(
        LimitName::MaxMembershipRemovals.default_allowance(1000),
        250
    );
    assert_eq!(LimitName::MaxGroupDeletions.default_allowance(3), 2);
    assert_eq!(LimitName::MaxGroupDeletions.default_allowance(50), 5);

    // The fixture org has 5 users: removing 3 is within the floor of 5.
    assert!(
        run("users: [{email: a@x.com}]\nsettings: {unlisted_users: remove}")
            .blocked
            .is_empty()
    );

    // A larger org: 20 users, every one removed; 10 % of 20 is 2, the floor 5.
    let emails: Vec<String> = (0..20).map(|i| format!("u{i:02}@x.com")).collect();
    let snapshot = Snapshot::from_parts(
        "ORG@AdobeOrg",
        emails.iter().map(|e| user(e, &[])).collect::<Vec<_>>(),
        vec![group("Eng", GroupType::UserGroup)],
    );
    let desired = desired_from_yaml("settings: {unlisted_users: delete}");
    let p = plan(&desired, &snapshot, &PlanOptions::default()).unwrap();
    let b = p
        .blocked
        .iter()
        .find(|b| b.limit == LimitName::MaxUserRemovals)
        .unwrap();
    assert_eq!(
        (b.source, b.setting.as_str(), b.planned, b.allowed, b.total),
        (LimitSource::Default, "10% (at least 5)", 20, 5, 20)
    );
    assert_eq!((b.affected.len(), b.more), (5, 15));

    // `off` switches the limit off; `--allow` overrides it for one plan, recorded.
    let off =
        desired_from_yaml("settings: {unlisted_users: delete, limits: {max_user_removals: off}}");
    assert_eq!(off.settings.limits.max_user_removals, Limit::parse("off"));
    let p = plan(&off, &snapshot, &PlanOptions::default()).unwrap();
    assert!(
        p.blocked
            .iter()
            .all(|b| b.limit != LimitName::MaxUserRemovals)
    );
    let allow: LimitOverride = "max_user_removals=20".parse().unwrap();
    let options = PlanOptions {
        overrides: vec![allow.clone()],
        ..PlanOptions::default()
    };
    let p = plan(&desired, &snapshot, &options).unwrap();
    assert!(
        p.blocked
            .iter()
            .all(|b| b.limit != LimitName::MaxUserRemovals)
    );
    assert_eq!(p.overrides.len(), 1);
    assert_eq!(p.overrides[0].requested(), allow);
    assert_eq!(p.overrides[0].instead_of, "10% (at least 5)");
    assert_eq!((p.overrides[0].planned, p.overrides[0].allowed), (20, 20));
}

#[test]
fn overrides_are_checked_when_read() {
    use umapi_sync::desired::{Limit, LimitOverride};
    let parse = |text: &str| text.parse::<LimitOverride>();
    assert_eq!(
        parse("max_group_deletions=off").unwrap().value,
        Limit::parse("off").unwrap()
    );
    assert_eq!(
        parse("max_membership_removals=20%").unwrap().value,
        Limit::Percent("20%".into())
    );
    assert_eq!(
        parse("max_user_removals=40").unwrap().to_string(),
        "max_user_removals=40"
    );
    assert!(
        parse("max_users=3")
            .unwrap_err()
            .contains("is not a safety limit")
    );
    assert!(
        parse("max_user_removals")
            .unwrap_err()
            .contains("LIMIT=VALUE")
    );
    assert!(
        parse("max_user_removals=120%")
            .unwrap_err()
            .contains("is not a value")
    );
    assert!(parse("max_user_removals=-1").is_err());
}

/// An org of `n` users in no group, and a user group "Big".
fn big_org(n: usize) -> Snapshot {
    Snapshot::from_parts(
        "ORG@AdobeOrg",
        (0..n).map(|i| user(&format!("u{i:05}@x.com"), &[])),
        vec![
            group("Big", GroupType::UserGroup),
            group("PP", GroupType::ProductProfile),
        ],
    )
}

#[test]
fn many_users_joining_one_group_use_group_entries() {
    let n = 1000;
    let mut yaml = String::from("groups: [{name: Big}]\nusers:\n");
    for i in 0..n {
        yaml.push_str(&format!("  - {{email: u{i:05}@x.com, groups: [Big]}}\n"));
    }
    let plan = plan(
        &desired_from_yaml(&yaml),
        &big_org(n),
        &PlanOptions::default(),
    )
    .unwrap();
    // 1,000 names at 100 per entry and 10 entries per request: one request.
    assert_eq!(plan.estimate.requests, 1);
    assert_eq!(plan.estimate.lower_bound_requests, 1);
    let entry = &plan.phases[0].requests[0].entries[0];
    assert!(matches!(entry, Entry::UserGroup(g) if g.steps.len() == 10
        && matches!(&g.steps[0], UserGroupStep::Add(_))));
}

#[test]
fn a_user_joining_many_groups_uses_one_user_entry() {
    let mut yaml = String::from("users:\n  - {email: u00000@x.com, groups: [");
    let names: Vec<String> = (0..25).map(|i| format!("G{i:02}")).collect();
    yaml.push_str(&names.join(", "));
    yaml.push_str("]}\ngroups:\n");
    for name in &names {
        yaml.push_str(&format!("  - {{name: {name}}}\n"));
    }
    let mut snapshot = big_org(1);
    for name in &names {
        snapshot.groups.push(umapi_sync::current::SnapshotGroup {
            name: name.clone(),
            group_type: GroupType::UserGroup,
            member_count: None,
            product_name: None,
            license_quota: None,
        });
    }
    let plan = plan(
        &desired_from_yaml(&yaml),
        &snapshot,
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.estimate.entries, 1, "{}", plan.to_json());
    assert!(matches!(&plan.phases[0].requests[0].entries[0], Entry::User(u) if u.steps.len() == 3));
}

#[test]
fn duration_follows_the_configured_rate() {
    let mut yaml = String::from("profiles: [{name: PP}]\nusers:\n");
    for i in 0..200 {
        yaml.push_str(&format!("  - {{email: u{i:05}@x.com, groups: [PP]}}\n"));
    }
    let desired = desired_from_yaml(&yaml);
    let plan = plan(&desired, &big_org(200), &PlanOptions::default()).unwrap();
    assert_eq!(plan.estimate.requests, 20);
    // A sliding minute: ten start at once, the next ten a minute and the pacing
    // margin (3 s) later.
    assert_eq!(plan.estimate.duration_seconds, 63.0);
    let options = PlanOptions {
        pacing: umapi_core::RateLimits::unlimited(),
        ..PlanOptions::default()
    };
    let plan = umapi_sync::planner::plan(&desired, &big_org(200), &options).unwrap();
    assert_eq!(plan.estimate.duration_seconds, 0.0);
}

#[test]
fn groups_with_many_profiles_keep_every_change_in_one_request() {
    let profiles: Vec<String> = (0..150).map(|i| format!("P{i:03}")).collect();
    let mut snapshot = org();
    for p in &profiles {
        snapshot.groups.push(umapi_sync::current::SnapshotGroup {
            name: p.clone(),
            group_type: GroupType::ProductProfile,
            member_count: None,
            product_name: None,
            license_quota: None,
        });
    }
    let list = profiles.join(", ");
    let yaml = format!(
        "groups:\n  - {{name: New, description: d, profiles: [{list}]}}\n  - {{name: Eng, description: d, profiles: [{list}]}}\n  - {{name: Renamed, previously: [Old], description: d, profiles: [{list}]}}\n"
    );
    let plan = plan(
        &desired_from_yaml(&yaml),
        &snapshot,
        &PlanOptions::default(),
    )
    .unwrap();
    let mut requests_of: std::collections::BTreeMap<
        u32,
        std::collections::BTreeSet<(usize, usize)>,
    > = Default::default();
    for (p, phase) in plan.phases.iter().enumerate() {
        for (r, request) in phase.requests.iter().enumerate() {
            crate::planner_support::check_request_limits(&request.entries).unwrap();
            for id in request.changes.iter().flatten().flatten() {
                requests_of.entry(*id).or_default().insert((p, r));
            }
        }
    }
    assert_eq!(requests_of.len(), plan.changes.len());
    assert!(
        requests_of.values().all(|r| r.len() == 1),
        "{requests_of:?}"
    );

    let mut sim = crate::planner_support::SandboxOrg::new(snapshot);
    assert_eq!(sim.apply(&plan, 7), Vec::<String>::new());
    for group in ["new", "eng", "renamed"] {
        let mut linked = sim.links(group);
        linked.sort();
        assert_eq!(linked, profiles, "{group}");
    }
}

#[test]
fn an_adobe_id_sharing_an_email_with_an_org_account_is_addressed_as_such() {
    let mut snapshot = org();
    let mut adobe = user("a@x.com", &["Eng"]);
    adobe.identity_type = Some(IdentityType::AdobeId);
    let mut users: Vec<umapi_core::wire::User> = vec![adobe];
    users.push(user("a@x.com", &["PP"]));
    snapshot = Snapshot::from_parts(
        "ORG@AdobeOrg",
        users,
        snapshot
            .groups
            .iter()
            .map(|g| group(&g.name, g.group_type.clone())),
    );
    // The Federated ID is declared (and leaves PP); the Adobe ID is not (removed).
    let desired = desired_from_yaml(
        "users: [{email: a@x.com}]\nprofiles: [{name: PP}]\nsettings: {unlisted_users: remove}",
    );
    let plan = plan(&desired, &snapshot, &PlanOptions::default()).unwrap();
    assert_eq!(
        changes(&plan),
        vec!["-a@x.com PP", "leave a@x.com (Adobe ID)"]
    );
    let leave = plan
        .phases
        .iter()
        .find(|p| p.name == PhaseName::UsersLeavingOrg)
        .unwrap();
    assert!(
        matches!(&leave.requests[0].entries[0], Entry::User(u) if u.use_adobe_id == Some(true))
    );
    let removal = plan
        .phases
        .iter()
        .find(|p| p.name == PhaseName::MembershipRemovals)
        .unwrap();
    assert!(matches!(&removal.requests[0].entries[0], Entry::User(u) if u.use_adobe_id.is_none()));
    // Both accounts are preconditions of their own.
    let keys: Vec<String> = plan
        .preconditions
        .users
        .iter()
        .map(|u| u.key.to_string())
        .collect();
    assert_eq!(keys, vec!["a@x.com", "a@x.com (adobeID)"]);
    assert_eq!(plan.check_fresh(&snapshot), Ok(()));

    let mut sim = crate::planner_support::SandboxOrg::new(snapshot);
    assert_eq!(sim.apply(&plan, 1), Vec::<String>::new());
    let left = sim.to_snapshot();
    assert_eq!(left.users.len(), 1);
    assert_eq!(left.users[0].identity_type, IdentityType::FederatedId);
    assert!(left.users[0].groups.is_empty());
}

/// A Federated ID signing in with a username that is not an email.
fn username_user(username: &str, email: Option<&str>) -> umapi_core::wire::User {
    umapi_core::wire::User {
        email: email.map(String::from),
        username: Some(username.into()),
        domain: Some("x.com".into()),
        ..user("unused@x.com", &[])
    }
}

#[test]
fn usernames_that_are_not_emails_join_group_lists_by_their_email() {
    // 1,000 users signing in by email, 50 by username with an email of their own,
    // 15 by username without an email, and two by username sharing one email.
    let mut users: Vec<umapi_core::wire::User> = (0..1000)
        .map(|i| user(&format!("u{i:04}@x.com"), &[]))
        .collect();
    let mut yaml = String::from("groups: [{name: Big}]\nusers:\n");
    for i in 0..1000 {
        yaml.push_str(&format!("  - {{email: u{i:04}@x.com, groups: [Big]}}\n"));
    }
    for i in 0..50 {
        let email = format!("Named.{i:02}@x.com");
        users.push(username_user(&format!("n{i:02}"), Some(&email)));
        yaml.push_str(&format!(
            "  - {{username: n{i:02}, domain: x.com, email: {email}, groups: [Big]}}\n"
        ));
    }
    for i in 0..15 {
        users.push(username_user(&format!("solo{i:02}"), None));
        yaml.push_str(&format!(
            "  - {{username: solo{i:02}, domain: x.com, groups: [Big]}}\n"
        ));
    }
    for twin in ["twin1", "twin2"] {
        users.push(username_user(twin, Some("twin@x.com")));
        yaml.push_str(&format!(
            "  - {{username: {twin}, domain: x.com, email: twin@x.com, groups: [Big]}}\n"
        ));
    }
    let snapshot = Snapshot::from_parts(
        "ORG@AdobeOrg",
        users,
        vec![group("Big", GroupType::UserGroup)],
    );
    let desired = desired_from_yaml(&yaml);
    let plan = plan(&desired, &snapshot, &PlanOptions::default()).unwrap();
    assert_eq!(changes(&plan).len(), 1067, "{:?}", &changes(&plan)[..5]);

    let entries: Vec<&Entry> = plan
        .phases
        .iter()
        .flat_map(|p| &p.requests)
        .flat_map(|r| &r.entries)
        .collect();
    let mut listed: Vec<String> = Vec::new();
    let mut own_entries: Vec<(String, Option<String>)> = Vec::new();
    for entry in &entries {
        match entry {
            Entry::UserGroup(g) => {
                for step in &g.steps {
                    if let UserGroupStep::Add(umapi_core::wire::UserGroupTargets::Users { user }) =
                        step
                    {
                        listed.extend(user.iter().cloned());
                    }
                }
            }
            Entry::User(u) => own_entries.push((u.user.clone(), u.domain.clone())),
        }
    }
    // 1,050 names in group lists (11 entries), and one user entry for each of the
    // 17 users that no email names unambiguously.
    assert_eq!(listed.len(), 1050);
    assert!(listed.contains(&"Named.07@x.com".to_string()));
    assert!(
        !listed
            .iter()
            .any(|n| n.starts_with("n0") || n.contains("twin"))
    );
    own_entries.sort();
    assert_eq!(own_entries.len(), 17, "{own_entries:?}");
    assert!(
        own_entries
            .iter()
            .all(|(user, domain)| domain.as_deref() == Some("x.com")
                && (user.starts_with("solo") || user.starts_with("twin")))
    );
    assert_eq!(plan.estimate.entries, 28);
    // The bound counts the forced user entries apart from the 1,050 names:
    // 17 + ⌈1,050 / 100⌉ = 28 entries, 3 requests.
    assert_eq!(plan.estimate.requests, 3);
    assert_eq!(plan.estimate.lower_bound_requests, 3);

    let mut sim = crate::planner_support::SandboxOrg::new(snapshot);
    assert_eq!(sim.apply(&plan, 7), Vec::<String>::new());
    let after = sim.to_snapshot();
    assert!(after.users.iter().all(|u| u.groups == vec!["Big".into()]));
    let again = umapi_sync::planner::plan(&desired, &after, &PlanOptions::default()).unwrap();
    assert!(!again.has_changes(), "{:?}", changes(&again));
}
