//! The record of write-only values: what the planner sends given the record, and
//! what an apply report adds to it.

use umapi_core::wire::{Group, GroupType};
use umapi_sync::apply::{ApplyReport, ChangeResult, ChangeStatus};
use umapi_sync::current::Snapshot;
use umapi_sync::desired::{DesiredState, GroupSpec};
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::written::{Written, WrittenGroup, description_hash};

const ORG: &str = "TEST@AdobeOrg";

fn org(groups: &[&str]) -> Snapshot {
    Snapshot::from_parts(
        ORG,
        std::iter::empty(),
        groups.iter().map(|name| Group {
            group_id: None,
            group_name: name.to_string(),
            group_type: GroupType::UserGroup,
            member_count: None,
            admin_group_name: None,
            user_group_name: None,
            product_profile_name: None,
            product_name: None,
            license_quota: None,
        }),
    )
}

fn declared(groups: &[(&str, &str, &[&str])]) -> DesiredState {
    DesiredState {
        groups: groups
            .iter()
            .map(|(name, description, previously)| GroupSpec {
                name: name.to_string(),
                description: Some(description.to_string()),
                previously: previously.iter().map(|p| p.to_string()).collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn planned(desired: &DesiredState, snapshot: &Snapshot, written: &Written) -> Plan {
    let options = PlanOptions {
        written: written.clone(),
        ..PlanOptions::default()
    };
    plan(desired, snapshot, &options).expect("plan")
}

/// A report in which the changes listed in `failed` failed and the others succeeded.
fn report(plan: &Plan, failed: &[u32]) -> ApplyReport {
    ApplyReport {
        org_id: plan.org_id.clone(),
        changes: plan
            .changes
            .iter()
            .map(|c| ChangeResult {
                change: c.id,
                phase: umapi_sync::plan::PhaseName::GroupCreatesAndUpdates,
                status: if failed.contains(&c.id) {
                    ChangeStatus::Failed
                } else {
                    ChangeStatus::Succeeded
                },
                error_code: None,
                message: None,
            })
            .collect(),
        ..ApplyReport::default()
    }
}

fn recorded(group: &str, description: &str) -> Written {
    let mut written = Written::default();
    written.orgs.entry(ORG.into()).or_default().insert(
        group.to_lowercase(),
        WrittenGroup {
            description: Some(description_hash(description)),
            profiles: None,
        },
    );
    written
}

fn kinds(plan: &Plan) -> Vec<&ChangeKind> {
    plan.changes.iter().map(|c| &c.kind).collect()
}

#[test]
fn only_what_the_server_acknowledged_is_recorded() {
    let snapshot = org(&["Alpha", "Beta"]);
    let desired = declared(&[("Alpha", "first", &[]), ("Beta", "second", &[])]);
    let first = planned(&desired, &snapshot, &Written::default());
    assert_eq!(first.changes.len(), 2, "no record: both sent");
    let beta = first
        .changes
        .iter()
        .find(|c| matches!(&c.kind, ChangeKind::ReassertGroup { group, .. } if group == "Beta"))
        .expect("Beta sent")
        .id;
    let written =
        Written::default().after_apply(&desired, &snapshot, &first, &report(&first, &[beta]));
    assert!(written.group(ORG, "alpha").is_some());
    assert!(written.group(ORG, "Beta").is_none(), "its send failed");

    let second = planned(&desired, &snapshot, &written);
    assert!(
        matches!(kinds(&second)[..], [ChangeKind::ReassertGroup { group, .. }] if group == "Beta"),
        "{:?}",
        kinds(&second)
    );
    assert_eq!(second.not_verifiable.len(), 1, "only what is sent is shown");
}

#[test]
fn a_test_only_apply_records_nothing() {
    let snapshot = org(&["Alpha"]);
    let desired = declared(&[("Alpha", "first", &[])]);
    let plan = planned(&desired, &snapshot, &Written::default());
    let mut report = report(&plan, &[]);
    report.test_only = true;
    let written = Written::default().after_apply(&desired, &snapshot, &plan, &report);
    assert_eq!(written, Written::default());
}

#[test]
fn the_record_follows_a_rename_and_an_unchanged_description_is_not_sent() {
    let snapshot = org(&["Old"]);
    let desired = declared(&[("New", "same", &["Old"])]);
    let before = recorded("Old", "same");
    let plan = planned(&desired, &snapshot, &before);
    assert!(
        matches!(kinds(&plan)[..], [ChangeKind::RenameGroup { .. }]),
        "{:?}",
        kinds(&plan)
    );
    let after = before.after_apply(&desired, &snapshot, &plan, &report(&plan, &[]));
    assert!(after.group(ORG, "new").is_some());
    assert!(after.group(ORG, "old").is_none());
    assert!(planned(&desired, &org(&["New"]), &after).changes.is_empty());
}

#[test]
fn a_group_gone_from_the_org_is_created_with_its_values_and_its_stale_entry_dropped() {
    // Deleted outside umapi: the record still has it.
    let before = recorded("Alpha", "first");
    let snapshot = org(&[]);
    let desired = declared(&[("Alpha", "first", &[])]);
    let plan = planned(&desired, &snapshot, &before);
    assert!(
        matches!(&kinds(&plan)[..], [ChangeKind::CreateGroup { description: Some(d), .. }] if d == "first")
    );
    // Its creation failed: no entry is left that would suppress the next send.
    let after = before.after_apply(&desired, &snapshot, &plan, &report(&plan, &[0]));
    assert!(after.group(ORG, "alpha").is_none());

    // Not declared any more and gone: dropped too.
    let gone = before.after_apply(
        &DesiredState::default(),
        &snapshot,
        &planned(&DesiredState::default(), &snapshot, &before),
        &ApplyReport::default(),
    );
    assert!(gone.group(ORG, "alpha").is_none());
}

#[test]
fn a_corrupt_record_is_an_error_the_caller_can_ignore() {
    assert!(Written::from_reader(&b"{ not json"[..]).is_err());
    assert!(Written::from_reader(&br#"{"format_version": 9, "orgs": {}}"#[..]).is_err());
    let written = recorded("Alpha", "first");
    assert_eq!(
        Written::from_reader(written.to_json().as_bytes()).expect("round trip"),
        written
    );
}
