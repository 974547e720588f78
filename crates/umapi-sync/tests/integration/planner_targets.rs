//! Targeted (partial) plans on the fixture org: which changes are kept, and how
//! every rendering says the plan is partial.

use umapi_sync::Error;
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, PlanTarget, plan};
use umapi_sync::render;

fn targeted(targets: &[&str]) -> Result<Plan, Error> {
    let (desired, org) = crate::planner_support::fixture();
    let options = PlanOptions {
        targets: targets.iter().map(|t| t.parse().unwrap()).collect(),
        ..PlanOptions::default()
    };
    plan(&desired, &org, &options)
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| match &c.kind {
            ChangeKind::AddMembership { user, group, .. } => format!("+{user} {group}"),
            ChangeKind::RemoveMembership { user, group, .. } => format!("-{user} {group}"),
            ChangeKind::CreateGroup { group, .. } => format!("create group {group}"),
            ChangeKind::CreateUser { user, .. } => format!("create {user}"),
            ChangeKind::RemoveUser { user, .. } => format!("leave {user}"),
            ChangeKind::UpdateUser { user, .. } => format!("update {user}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_user_target_keeps_that_users_changes_only() {
    let full = targeted(&[]).unwrap();
    let plan = targeted(&["user:BOB@example.com"]).unwrap();
    assert_eq!(kinds(&plan), vec!["leave bob@example.com"]);
    // Warnings about other users are left to the full plan.
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert!(!full.warnings.is_empty());
    assert!(full.changes.len() > plan.changes.len());
    assert_eq!(plan.summary.to_remove, 1);
    assert_eq!(
        plan.targets,
        vec![PlanTarget::User("BOB@example.com".into())]
    );
}

#[test]
fn a_group_target_keeps_the_group_its_memberships_and_the_users_they_need() {
    let plan = targeted(&["group:marketing"]).unwrap();
    // Erin is created too (without her update or other memberships): the
    // membership would fail without her.
    assert_eq!(
        kinds(&plan),
        vec![
            "create group Marketing",
            "create erin@example.com",
            "+erin@example.com Marketing"
        ]
    );
    // The write-only values listed are those of the targeted group only.
    assert!(
        plan.not_verifiable
            .iter()
            .all(|item| item.group == "Marketing")
    );
}

#[test]
fn every_rendering_says_the_plan_is_partial() {
    let plan = targeted(&["user:bob@example.com", "group:Legacy"]).unwrap();
    insta::assert_snapshot!("partial_text", render::text(&plan, false));
    insta::assert_snapshot!("partial_markdown", render::markdown(&plan));
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(
        json["targets"],
        serde_json::json!(["user:bob@example.com", "group:Legacy"])
    );
}

#[test]
fn a_target_that_matches_nothing_is_refused_with_a_suggestion() {
    let Err(Error::Invalid(found)) = targeted(&["user:bbo@example.com", "group:Nowhere At All"])
    else {
        panic!("a target matching nothing was planned");
    };
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn targets_are_written_user_or_group() {
    assert!("user:".parse::<PlanTarget>().is_err());
    assert!("ada@example.com".parse::<PlanTarget>().is_err());
    assert_eq!(
        "group:Design Team".parse::<PlanTarget>(),
        Ok(PlanTarget::Group("Design Team".into()))
    );
}
