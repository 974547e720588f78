//! `until` on users and memberships: access holds through its last day (UTC) and
//! is removed from the next; plans list access that ends soon.

use jiff::civil::{Date, date};
use umapi_core::wire::GroupType;
use umapi_sync::current::Snapshot;
use umapi_sync::desired::LimitName;
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::render;

use crate::planner_support::{desired_from_yaml, group, user};

/// Everyone declared below is in the org already, with every membership.
fn org() -> Snapshot {
    Snapshot::from_parts(
        "ORG@AdobeOrg",
        vec![
            user("staff@x.com", &["Eng"]),
            user("intern@x.com", &["Eng", "Interns"]),
            user("contractor@x.com", &["Eng"]),
        ],
        vec![
            group("Eng", GroupType::UserGroup),
            group("Interns", GroupType::UserGroup),
        ],
    )
}

/// The intern's membership of Interns ends on 2026-06-30; the contractor's access
/// ends on 2026-07-10. Unlisted users are left alone.
const STATE: &str = "
users:
  - {email: staff@x.com, groups: [Eng]}
  - email: intern@x.com
    groups:
      - Eng
      - {name: Interns, until: 2026-06-30}
  - {email: contractor@x.com, until: 2026-07-10, groups: [Eng]}
groups: [{name: Eng}, {name: Interns}]
settings: {unlisted_users: ignore}
";

fn on(yaml: &str, today: Date, expiring_days: u32) -> Plan {
    let options = PlanOptions {
        today: Some(today),
        expiring_days,
        ..PlanOptions::default()
    };
    plan(&desired_from_yaml(yaml), &org(), &options).unwrap()
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.kind.is_counted())
        .map(|c| match &c.kind {
            ChangeKind::RemoveMembership { user, group, .. } => format!("-{user} {group}"),
            ChangeKind::RemoveUser {
                user,
                delete_account,
                ..
            } => format!(
                "leave {user}{}",
                if *delete_account { " delete" } else { "" }
            ),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_membership_holds_through_its_last_day_and_is_removed_the_day_after() {
    assert!(changes(&on(STATE, date(2026, 6, 29), 0)).is_empty());
    assert!(changes(&on(STATE, date(2026, 6, 30), 0)).is_empty());
    assert_eq!(
        changes(&on(STATE, date(2026, 7, 1), 0)),
        vec!["-intern@x.com Interns"]
    );
}

#[test]
fn an_expired_user_leaves_the_org_even_when_unlisted_users_are_ignored() {
    assert_eq!(
        changes(&on(STATE, date(2026, 7, 10), 0)),
        vec!["-intern@x.com Interns"]
    );
    // The account is kept: removed from the org, not deleted.
    assert_eq!(
        changes(&on(STATE, date(2026, 7, 11), 0)),
        vec!["-intern@x.com Interns", "leave contractor@x.com"]
    );
}

#[test]
fn without_a_day_no_until_is_applied() {
    let plan = plan(&desired_from_yaml(STATE), &org(), &PlanOptions::default()).unwrap();
    assert!(changes(&plan).is_empty());
    assert!(plan.expiring.is_empty());
}

#[test]
fn the_fingerprint_is_the_one_of_the_state_as_written_whatever_the_day() {
    let before = on(STATE, date(2026, 6, 1), 0);
    let after = on(STATE, date(2027, 1, 1), 0);
    assert!(!changes(&after).is_empty());
    assert_eq!(before.desired_state_hash, after.desired_state_hash);
}

#[test]
fn safety_limits_still_apply_to_expired_users() {
    let limited = format!("{STATE}  limits: {{max_user_removals: 0}}\n").replace(
        "settings: {unlisted_users: ignore}\n  ",
        "settings:\n  unlisted_users: ignore\n  ",
    );
    let plan = on(&limited, date(2026, 7, 11), 0);
    assert!(plan.is_blocked(), "{}", render::text(&plan, false));
    assert_eq!(plan.blocked[0].limit, LimitName::MaxUserRemovals);
}

#[test]
fn access_ending_within_the_window_is_listed_soonest_first() {
    let plan = on(STATE, date(2026, 6, 30), 14);
    let listed: Vec<String> = plan.expiring.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        vec![
            "intern@x.com leaves Interns after 2026-06-30 (today is the last day)",
            "contractor@x.com leaves the org after 2026-07-10 (10 days left)",
        ]
    );
    // Past the window, past the day, or with the list switched off: not listed.
    assert_eq!(on(STATE, date(2026, 6, 16), 14).expiring.len(), 1);
    assert!(on(STATE, date(2026, 6, 15), 14).expiring.is_empty());
    assert_eq!(on(STATE, date(2026, 7, 1), 14).expiring.len(), 1);
    assert!(on(STATE, date(2026, 6, 30), 0).expiring.is_empty());
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(json["expiring"][1]["until"], "2026-07-10");
    assert_eq!(json["expiring"][1]["days_left"], 10);
    assert!(json["expiring"][1]["group"].is_null());
}

#[test]
fn text_and_markdown_of_a_plan_with_expired_and_expiring_access() {
    // On 2026-07-01 the intern's membership has ended; the contractor has 9 days left.
    let plan = on(STATE, date(2026, 7, 1), 14);
    insta::assert_snapshot!("expiry_text", render::text(&plan, false));
    insta::assert_snapshot!("expiry_markdown", render::markdown(&plan));
}

#[test]
fn an_expired_user_named_in_a_groups_members_still_leaves() {
    // Named in `members:` as well, the contractor would otherwise still be wanted.
    let state = STATE.replace(
        "groups: [{name: Eng}, {name: Interns}]",
        "groups: [{name: Eng, members: [Contractor@x.com]}, {name: Interns}]",
    );
    assert!(changes(&on(&state, date(2026, 7, 10), 0)).contains(&"-intern@x.com Interns".into()));
    assert_eq!(
        changes(&on(&state, date(2026, 7, 11), 0)),
        vec!["-intern@x.com Interns", "leave contractor@x.com"]
    );
}
