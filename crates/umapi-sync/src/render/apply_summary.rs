//! The end of an apply, rendered: the summary people read (every failed command
//! included) and the `--report` JSON document.

use serde::Serialize;

use crate::apply::{ApplyReport, ChangeResult, ChangeStatus, Repack};
use crate::plan::{Blocked, Change, ChangeKind, Override, PhaseName, Plan};

/// Version of the `--report` JSON document.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// One line naming a change, e.g. `add ada@example.com to user group Engineering`.
pub fn describe(change: &Change) -> String {
    match &change.kind {
        ChangeKind::CreateGroup { group, .. } => format!("create user group {group}"),
        ChangeKind::RenameGroup { group, from } => format!("rename user group {from} to {group}"),
        ChangeKind::DeleteGroup { group, .. } => format!("delete user group {group}"),
        ChangeKind::ReassertGroup { group, .. } => {
            format!("re-assert the description and profiles of user group {group}")
        }
        ChangeKind::CreateUser {
            user,
            identity_type,
            ..
        } => format!("create user {user} ({identity_type})"),
        ChangeKind::UpdateUser { user, fields } => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            format!("update {} of user {user}", names.join(", "))
        }
        ChangeKind::RenameUser { user, from, .. } => format!("rename user {from} to {user}"),
        ChangeKind::AddMembership {
            user,
            group,
            group_kind,
        } => format!("add {user} to {} {group}", group_kind.label()),
        ChangeKind::RemoveMembership {
            user,
            group,
            group_kind,
        } => format!("remove {user} from {} {group}", group_kind.label()),
        ChangeKind::RemoveUser {
            user,
            delete_account: true,
            ..
        } => format!("remove user {user} from the org and delete the account"),
        ChangeKind::RemoveUser { user, .. } => format!("remove user {user} from the org"),
    }
}

/// Changes listed by name in the summary, at most; the `--report` file has them all.
const LISTED: usize = 20;

/// The end-of-run summary, every failed command included. In test mode it says so on
/// its first line, and names the changes the server could not validate.
pub fn apply_summary(plan: &Plan, report: &ApplyReport) -> String {
    let mut text = String::new();
    let done = count_objects(
        plan,
        report.changes.iter().filter(|r| {
            matches!(r.status, ChangeStatus::Succeeded | ChangeStatus::Validated)
                && is_counted(plan, r)
        }),
    );
    let reasserted = report
        .changes
        .iter()
        .filter(|r| {
            matches!(r.status, ChangeStatus::Succeeded | ChangeStatus::Validated)
                && !is_counted(plan, r)
        })
        .count();
    let requests = plural(report.requests_sent, "request");
    let done_text = if report.test_only {
        let mut done_text = format!("{} validated by the server", plural(done, "change"));
        if reasserted > 0 {
            done_text.push_str(&format!(
                " (and the write-only settings of {})",
                plural(reasserted, "user group")
            ));
        }
        done_text
    } else {
        let mut done_text = format!("{} applied", plural(done, "change"));
        if reasserted > 0 {
            done_text.push_str(&format!(
                ", write-only settings sent to {}",
                plural(reasserted, "user group")
            ));
        }
        done_text
    };
    match (report.test_only, report.is_success()) {
        (true, true) => text.push_str(&format!(
            "\nTest mode: {done_text}, in {requests}; nothing was changed.\n"
        )),
        (true, false) => text.push_str(&format!(
            "\nTest mode finished with errors: {done_text}; {} failed, {} skipped; in \
             {requests}; nothing was changed.\n",
            report.failed, report.skipped
        )),
        (false, true) => text.push_str(&format!("\nApply complete! {done_text}, in {requests}.\n")),
        (false, false) => text.push_str(&format!(
            "\nApply finished with errors: {done_text}; {} failed, {} skipped; in {requests}.\n",
            report.failed, report.skipped
        )),
    }
    if !report.is_success() {
        text.push_str("\nFailed commands:\n");
        for failure in report.failures() {
            text.push_str(&format!("  - {}\n", failure_line(plan, failure)));
        }
    }
    for repack in &report.repacked {
        match repack.entries_per_request {
            Some(size) => text.push_str(&format!(
                "\nThe server refused a whole request: {repack}.\n  hint: if that was its size, \
                 set `packing: {{entries_per_request: {size}}}` in umapi.yaml to send requests \
                 right the first time.\n"
            )),
            None => text.push_str(&format!(
                "\nThe server refused entries as too long: {repack}.\n  hint: set `packing:` in \
                 umapi.yaml to these sizes to send them right the first time.\n"
            )),
        }
    }
    if report.unverified > 0 {
        text.push_str(&format!(
            "\nNot validated ({}): they name users or groups that this plan creates or \
             renames, which UMAPI's test mode cannot see:\n",
            plural(report.unverified, "change")
        ));
        let unverified = report
            .changes
            .iter()
            .filter(|r| r.status == ChangeStatus::Unverified);
        for result in unverified.take(LISTED) {
            text.push_str(&format!("  - {}\n", change_name(plan, result)));
        }
        if report.unverified > LISTED {
            text.push_str(&format!(
                "  … and {} more (all of them in the --report file)\n",
                report.unverified - LISTED
            ));
        }
    }
    text
}

/// The one-line description of a result's change.
fn change_name(plan: &Plan, result: &ChangeResult) -> String {
    plan.changes
        .get(result.change as usize)
        .map(describe)
        .unwrap_or_else(|| format!("change #{}", result.change))
}

/// `describe(change): code: message`.
pub fn failure_line(plan: &Plan, failure: &ChangeResult) -> String {
    let what = change_name(plan, failure);
    let code = failure.error_code.as_deref().unwrap_or("error");
    let line = match &failure.message {
        Some(message) if !message.is_empty() => format!("{what}: {code}: {message}"),
        _ => format!("{what}: {code}"),
    };
    let seat_hint = || {
        let change = plan.changes.get(failure.change as usize)?;
        super::licences::refused_seat_hint(plan, change, failure.message.as_deref()?)
    };
    match crate::apply::error_hint(code)
        .map(str::to_owned)
        .or_else(seat_hint)
    {
        Some(hint) => format!("{line} ({hint})"),
        None => line,
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Changes as the plan's summary counts them: a user renamed and updated is one.
fn count_objects<'r>(plan: &Plan, results: impl Iterator<Item = &'r ChangeResult>) -> usize {
    let mut users = std::collections::HashSet::new();
    let mut others = 0;
    for result in results {
        match plan
            .changes
            .get(result.change as usize)
            .and_then(|c| c.kind.changed_user())
        {
            Some(user) => {
                users.insert(user);
            }
            None => others += 1,
        }
    }
    users.len() + others
}

fn is_counted(plan: &Plan, result: &ChangeResult) -> bool {
    plan.changes
        .get(result.change as usize)
        .is_some_and(|c| c.kind.is_counted())
}

/// The `--report` document: the run's totals and every change with its result.
#[derive(Serialize)]
struct ReportFile<'a> {
    format_version: u32,
    org_id: &'a str,
    test_only: bool,
    success: bool,
    /// Safety limits that blocked the plan: when any, nothing was sent.
    blocked: &'a [Blocked],
    /// Safety limits overridden with `--allow`.
    overrides: &'a [Override],
    requests_sent: usize,
    requests_failed: usize,
    succeeded: usize,
    failed: usize,
    skipped: usize,
    unverified: usize,
    changes: Vec<ReportedChange<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [serde_json::Value],
    /// Entries the server refused as too long and umapi sent again, smaller.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    repacked: &'a [Repack],
}

#[derive(Serialize)]
struct ReportedChange<'a> {
    id: u32,
    what: String,
    phase: PhaseName,
    status: ChangeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    change: &'a Change,
}

/// The `--report` JSON document of a run.
pub fn apply_report_json(plan: &Plan, report: &ApplyReport) -> String {
    let changes = report
        .changes
        .iter()
        .filter_map(|result| {
            let change = plan.changes.get(result.change as usize)?;
            Some(ReportedChange {
                id: result.change,
                what: describe(change),
                phase: result.phase,
                status: result.status,
                error_code: result.error_code.as_deref(),
                message: result.message.as_deref(),
                change,
            })
        })
        .collect();
    let document = ReportFile {
        format_version: REPORT_FORMAT_VERSION,
        org_id: &report.org_id,
        test_only: report.test_only,
        success: report.is_success() && !plan.is_blocked(),
        blocked: &plan.blocked,
        overrides: &plan.overrides,
        requests_sent: report.requests_sent,
        requests_failed: report.requests_failed,
        succeeded: report.succeeded,
        failed: report.failed,
        skipped: report.skipped,
        unverified: report.unverified,
        changes,
        warnings: &report.warnings,
        repacked: &report.repacked,
    };
    let mut json =
        serde_json::to_string_pretty(&document).expect("a report always serializes to JSON");
    json.push('\n');
    json
}
