//! The apply engine: executes a [`Plan`] through UMAPI, phase by phase.
//!
//! Every request of a phase is sent before the next phase starts, because
//! entries of one request may run in any order on the server and later phases
//! depend on earlier ones (a user is added to a group only after the group was
//! created). Failures are collected, never fatal: a failed request or step
//! fails only the changes it carries, and the other requests still run. The
//! caller draws progress from [`ApplyEvent`]s and gets an [`ApplyReport`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use umapi_core::Connection;
use umapi_core::protocol::{MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY};
use umapi_core::wire::{
    ActionResponse, Entry, GroupList, UserEntry, UserGroupEntry, UserGroupStep, UserGroupTargets,
    UserStep,
};

use crate::plan::{ChangeId, ChangeKind, Phase, PhaseName, Plan, Request};

/// Options of [`apply`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Skip the requests of a phase after an earlier phase had failures. Off by
    /// default: the server reports what cannot work (for example adding a user to
    /// a group whose creation failed), and everything else still gets done.
    pub stop_after_failed_phase: bool,
}

/// Something that happened during [`apply`], in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyEvent {
    /// A phase starts.
    PhaseStarted {
        /// Which phase.
        phase: PhaseName,
        /// Requests it sends.
        requests: usize,
    },
    /// A request is about to be sent.
    RequestStarted {
        /// Its phase.
        phase: PhaseName,
        /// 0-based index of the request within the plan (across phases).
        request: usize,
        /// Entries in it.
        entries: usize,
    },
    /// A request was answered (or failed as a whole).
    RequestFinished {
        /// 0-based index of the request within the plan.
        request: usize,
        /// Changes it carried that succeeded.
        succeeded: usize,
        /// Changes it carried that failed.
        failed: usize,
    },
    /// The result of one change.
    Change(ChangeResult),
    /// A phase is done.
    PhaseFinished {
        /// Which phase.
        phase: PhaseName,
        /// Changes of the phase that failed.
        failed: usize,
    },
    /// A phase was skipped because an earlier one failed
    /// ([`ApplyOptions::stop_after_failed_phase`]).
    PhaseSkipped {
        /// Which phase.
        phase: PhaseName,
    },
}

/// How one change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// UMAPI reported no error for any step carrying it.
    Succeeded,
    /// UMAPI validated it in test mode without committing it.
    Validated,
    /// A step carrying it failed, or its request failed as a whole.
    Failed,
    /// Test mode only: UMAPI refused it because it names a user or group that an
    /// earlier change of this plan creates or renames, which test mode cannot see
    /// (nothing is committed). Neither a success nor a failure.
    Unverified,
    /// Not sent: an earlier phase failed and the options said to stop, or a
    /// safety limit blocks the plan.
    Skipped,
}

/// The result of one change of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeResult {
    /// The change's id in the plan.
    pub change: ChangeId,
    /// Its phase.
    pub phase: PhaseName,
    /// How it ended.
    pub status: ChangeStatus,
    /// What the server said, for failures: UMAPI's error code (`error.user.nonexistent`,
    /// a request-level code, or `request_failed` when no response came back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The server's or the client's message, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What [`apply`] did: serialisable as the `--report` JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// The org.
    pub org_id: String,
    /// Whether the requests were sent with `testOnly` (nothing committed).
    pub test_only: bool,
    /// Action requests sent.
    pub requests_sent: usize,
    /// Requests that failed as a whole (no usable response).
    pub requests_failed: usize,
    /// Changes that succeeded (or validated, in test mode).
    pub succeeded: usize,
    /// Changes that failed.
    pub failed: usize,
    /// Changes not sent.
    pub skipped: usize,
    /// Test mode only: changes that depend on objects the plan creates.
    #[serde(default)]
    pub unverified: usize,
    /// Every change's result, in plan order.
    pub changes: Vec<ChangeResult>,
    /// Warnings the server returned, as it returned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<serde_json::Value>,
    /// Entries the server refused as too long, sent again in smaller entries
    /// (requests sent for them are counted in `requests_sent`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repacked: Vec<Repack>,
}

/// Entries refused as too long and sent again, smaller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repack {
    /// The server's error code that refused them.
    pub error_code: String,
    /// Entries refused (their steps from the refused one on were re-packed).
    pub entries: usize,
    /// Entries they were re-packed into.
    pub into_entries: usize,
    /// Names per step of the new entries, at most.
    pub names_per_step: usize,
    /// Steps per entry of the new entries, at most.
    pub steps_per_entry: usize,
    /// For a whole request refused (HTTP 400) and sent again split: entries per
    /// request of the new requests, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries_per_request: Option<usize>,
}

impl std::fmt::Display for Repack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(per_request) = self.entries_per_request {
            return write!(
                f,
                "split a request of {} entries into requests of at most {per_request} after {}",
                self.entries, self.error_code
            );
        }
        let short = self
            .error_code
            .rsplit('.')
            .next()
            .unwrap_or(&self.error_code);
        write!(
            f,
            "re-packed {} {} into {} of at most {} names per step and {} {} after {short}",
            self.entries,
            if self.entries == 1 {
                "entry"
            } else {
                "entries"
            },
            self.into_entries,
            self.names_per_step,
            self.steps_per_entry,
            if self.steps_per_entry == 1 {
                "step"
            } else {
                "steps"
            },
        )
    }
}

impl ApplyReport {
    /// Whether every change went through.
    pub fn is_success(&self) -> bool {
        self.failed == 0 && self.skipped == 0
    }

    /// The report of a plan that was not sent at all (a safety limit blocks it):
    /// every change skipped, no request sent.
    pub fn not_sent(plan: &Plan, test_only: bool) -> Self {
        let changes: Vec<ChangeResult> = plan
            .phases
            .iter()
            .flat_map(|phase| {
                let mut ids: Vec<ChangeId> = phase
                    .requests
                    .iter()
                    .flat_map(|r| r.changes.iter().flatten().flatten().copied())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids.into_iter().map(move |change| ChangeResult {
                    change,
                    phase: phase.name,
                    status: ChangeStatus::Skipped,
                    error_code: None,
                    message: None,
                })
            })
            .collect();
        ApplyReport {
            org_id: plan.org_id.clone(),
            test_only,
            skipped: changes.len(),
            changes,
            ..ApplyReport::default()
        }
    }

    /// The failed changes' results.
    pub fn failures(&self) -> impl Iterator<Item = &ChangeResult> {
        self.changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Failed)
    }
}

/// Executes `plan` through `conn`, phase by phase, reporting every step to
/// `on_event`. Never stops on a failure; see [`ApplyReport`] for the outcome.
/// A plan blocked by a safety limit ([`Plan::is_blocked`]) is not sent at all.
///
/// Test mode is a property of the connection (`ConnectionBuilder::test_mode`).
pub async fn apply(
    conn: &Connection,
    plan: &Plan,
    options: ApplyOptions,
    on_event: impl FnMut(ApplyEvent),
) -> ApplyReport {
    let test_only = conn.is_test_mode();
    if plan.is_blocked() {
        return ApplyReport::not_sent(plan, test_only);
    }
    let mut run = Run {
        conn,
        plan,
        created: if test_only {
            created_names(plan)
        } else {
            HashSet::new()
        },
        results: vec![None; plan.changes.len()],
        report: ApplyReport {
            org_id: plan.org_id.clone(),
            test_only,
            ..ApplyReport::default()
        },
        request_index: 0,
        learned: None,
        entries_per_request: None,
        on_event,
    };
    let mut earlier_failed = false;
    for phase in &plan.phases {
        if earlier_failed && options.stop_after_failed_phase {
            run.skip_phase(phase);
        } else {
            earlier_failed |= run.phase(phase).await > 0;
        }
    }
    let mut report = run.report;
    report.changes = run.results.into_iter().flatten().collect();
    for change in &report.changes {
        match change.status {
            ChangeStatus::Succeeded | ChangeStatus::Validated => report.succeeded += 1,
            ChangeStatus::Failed => report.failed += 1,
            ChangeStatus::Skipped => report.skipped += 1,
            ChangeStatus::Unverified => report.unverified += 1,
        }
    }
    report
}

/// The state of one [`apply`] run.
struct Run<'a, F> {
    conn: &'a Connection,
    plan: &'a Plan,
    /// Names test mode cannot see (empty outside test mode).
    created: HashSet<String>,
    /// Each change's result, by id.
    results: Vec<Option<ChangeResult>>,
    report: ApplyReport,
    /// Index of the next request across the whole plan.
    request_index: usize,
    /// The size (names per step, steps per entry) that got refused entries through
    /// in this run: later membership entries are cut to it before they are sent.
    learned: Option<(usize, usize)>,
    /// Entries per request after the server refused a whole request (HTTP 400): later
    /// requests are sent in parts of at most this many entries.
    entries_per_request: Option<usize>,
    on_event: F,
}

impl<F: FnMut(ApplyEvent)> Run<'_, F> {
    /// Sends the requests of one phase; returns how many of its changes failed.
    async fn phase(&mut self, phase: &Phase) -> usize {
        (self.on_event)(ApplyEvent::PhaseStarted {
            phase: phase.name,
            requests: phase.requests.len(),
        });
        let mut phase_failed = 0;
        for request in &phase.requests {
            let index = self.request_index;
            self.request_index += 1;
            (self.on_event)(ApplyEvent::RequestStarted {
                phase: phase.name,
                request: index,
                entries: request.entries.len(),
            });
            tracing::debug!(request = index, phase = ?phase.name, entries = request.entries.len(), "sending action request");
            let mut changes: Vec<ChangeResult> = Vec::new();
            let mut lost_attempt = false;
            // Each part, and whether it is half of a request the server refused whole.
            let mut parts: std::collections::VecDeque<(Request, bool)> = self
                .cut(request)
                .into_iter()
                .map(|part| (part, false))
                .collect();
            while let Some((part, halved)) = parts.pop_front() {
                let unknown_before = self.conn.stats().unknown_outcomes;
                let outcome = self.conn.post_actions(&part.entries).await;
                lost_attempt |= self.conn.stats().unknown_outcomes > unknown_before;
                self.report.requests_sent += 1;
                // A request refused whole ran nothing: its entries can go again in
                // smaller requests, each size once, in case its size was the reason.
                if let Err(umapi_core::Error::Request { status: 400, .. }) = &outcome
                    && part.entries.len() > 1
                {
                    let half = part.entries.len().div_ceil(2);
                    tracing::warn!(
                        request = index,
                        entries = part.entries.len(),
                        "request refused whole; sending it again split in two"
                    );
                    self.report.repacked.push(Repack {
                        error_code: "HTTP 400".to_owned(),
                        entries: part.entries.len(),
                        into_entries: part.entries.len(),
                        names_per_step: self.learned.map_or(MAX_NAMES_PER_LIST, |l| l.0),
                        steps_per_entry: self.learned.map_or(MAX_STEPS_PER_ENTRY, |l| l.1),
                        entries_per_request: Some(half),
                    });
                    let (first, second) = (
                        Request {
                            entries: part.entries[..half].to_vec(),
                            changes: part.changes[..half].to_vec(),
                        },
                        Request {
                            entries: part.entries[half..].to_vec(),
                            changes: part.changes[half..].to_vec(),
                        },
                    );
                    parts.push_front((second, true));
                    parts.push_front((first, true));
                    continue;
                }
                // The size that went through is the size later requests are cut to.
                if halved && outcome.is_ok() {
                    self.entries_per_request = Some(part.entries.len());
                }
                let results = match outcome {
                    Ok(response) => {
                        self.report
                            .warnings
                            .extend(response.warnings.iter().cloned());
                        let mut results = results_of_response(
                            phase.name,
                            &part,
                            &response,
                            self.conn.is_test_mode(),
                        );
                        self.repack(phase.name, &part, &response, &mut results)
                            .await;
                        mark_unverified(self.plan, &self.created, &mut results);
                        results
                    }
                    Err(error) => {
                        tracing::warn!(request = index, %error, "action request failed");
                        self.report.requests_failed += 1;
                        fail_all(phase.name, &part, "request_failed", &error.to_string())
                    }
                };
                for result in results {
                    match changes.iter_mut().find(|c| c.change == result.change) {
                        Some(kept) if kept.status == ChangeStatus::Failed => {}
                        Some(kept) => *kept = result,
                        None => changes.push(result),
                    }
                }
            }
            if lost_attempt {
                note_lost_attempt(&mut changes);
            }
            let failed = changes
                .iter()
                .filter(|c| c.status == ChangeStatus::Failed)
                .count();
            phase_failed += failed;
            let succeeded = changes.len() - failed;
            for change in changes {
                self.record(change);
            }
            (self.on_event)(ApplyEvent::RequestFinished {
                request: index,
                succeeded,
                failed,
            });
        }
        (self.on_event)(ApplyEvent::PhaseFinished {
            phase: phase.name,
            failed: phase_failed,
        });
        phase_failed
    }

    /// The request as sent: after a re-pack in this run, entries of membership
    /// steps only that are larger than the size that went through are cut to it
    /// first (entries with other steps are sent whole: their parts would have to
    /// run in order).
    fn cut(&self, request: &Request) -> Vec<Request> {
        let per_request = self
            .entries_per_request
            .unwrap_or(request.entries.len())
            .max(1);
        let Some((names, steps)) = self.learned else {
            return request
                .entries
                .chunks(per_request)
                .zip(request.changes.chunks(per_request))
                .map(|(entries, changes)| Request {
                    entries: entries.to_vec(),
                    changes: changes.to_vec(),
                })
                .collect();
        };
        let mut entries: Vec<(Entry, Vec<Vec<ChangeId>>)> = Vec::new();
        for (entry, ids) in request.entries.iter().zip(&request.changes) {
            let count = step_count(entry);
            let lists: Option<Vec<usize>> = (0..count)
                .map(|s| step_names(entry, s).map(Vec::len))
                .collect();
            let too_big = count > steps || lists.iter().flatten().any(|&n| n > names);
            match lists {
                Some(_) if too_big => {
                    let left = Leftover {
                        entry: entry.clone(),
                        ids: ids.clone(),
                        accepted: 0,
                        longest: 0,
                    };
                    entries.extend(split(&left, names, steps));
                }
                _ => entries.push((entry.clone(), ids.clone())),
            }
        }
        entries
            .chunks(per_request.min(request.entries.len().max(1)))
            .map(|chunk| {
                let (entries, changes) = chunk.iter().cloned().unzip();
                Request { entries, changes }
            })
            .collect()
    }

    /// Sends the steps of entries the server refused as too long again, in smaller
    /// entries, and replaces the results of the changes they carry. Each smaller
    /// size is tried once; what still fails keeps its failure.
    async fn repack(
        &mut self,
        phase: PhaseName,
        request: &Request,
        response: &ActionResponse,
        changes: &mut [ChangeResult],
    ) {
        let mut pending = leftovers(request, response);
        let mut tried = HashSet::new();
        let per_request = request.entries.len().max(1);
        let test_only = self.conn.is_test_mode();
        while !pending.is_empty() {
            let Some((names, steps)) = smaller_size(&pending, &mut tried) else {
                break;
            };
            let entries: Vec<(Entry, Vec<Vec<ChangeId>>)> = pending
                .iter()
                .flat_map(|left| split(left, names, steps))
                .collect();
            tracing::info!(
                entries = pending.len(),
                into = entries.len(),
                names,
                steps,
                "re-packing entries refused as too long"
            );
            self.report.repacked.push(Repack {
                error_code: LIST_TOO_LONG.to_owned(),
                entries: pending.len(),
                into_entries: entries.len(),
                names_per_step: names,
                steps_per_entry: steps,
                entries_per_request: None,
            });
            let mut next = Vec::new();
            let mut retried: std::collections::BTreeMap<ChangeId, ChangeResult> =
                Default::default();
            for chunk in entries.chunks(per_request) {
                let (entries, ids): (Vec<Entry>, Vec<_>) = chunk.iter().cloned().unzip();
                let retry = Request {
                    entries,
                    changes: ids,
                };
                let outcome = self.conn.post_actions(&retry.entries).await;
                self.report.requests_sent += 1;
                let results = match outcome {
                    Ok(response) => {
                        self.report
                            .warnings
                            .extend(response.warnings.iter().cloned());
                        next.extend(leftovers(&retry, &response));
                        results_of_response(phase, &retry, &response, test_only)
                    }
                    Err(error) => {
                        self.report.requests_failed += 1;
                        fail_all(phase, &retry, "request_failed", &error.to_string())
                    }
                };
                for result in results {
                    match retried.get(&result.change) {
                        Some(kept) if kept.status == ChangeStatus::Failed => {}
                        _ => {
                            retried.insert(result.change, result);
                        }
                    }
                }
            }
            for change in changes.iter_mut() {
                let refused = matches!(change.error_code.as_deref(), Some(LIST_TOO_LONG | NOT_RUN));
                if refused && let Some(result) = retried.remove(&change.change) {
                    *change = result;
                }
            }
            if next.is_empty() {
                self.learned = Some((names, steps));
            }
            pending = next;
        }
    }

    /// Records every change of a phase as skipped, sending nothing.
    fn skip_phase(&mut self, phase: &Phase) {
        (self.on_event)(ApplyEvent::PhaseSkipped { phase: phase.name });
        for request in &phase.requests {
            for id in carried_changes(request) {
                self.record(ChangeResult {
                    change: id,
                    phase: phase.name,
                    status: ChangeStatus::Skipped,
                    error_code: None,
                    message: Some("not sent: an earlier phase had failures".into()),
                });
            }
            self.request_index += 1;
        }
    }

    /// Stores a change's result, keeping the first failure when a change spans
    /// several steps, and reports it.
    fn record(&mut self, result: ChangeResult) {
        let Some(slot) = self.results.get_mut(result.change as usize) else {
            return;
        };
        match slot {
            Some(existing) if existing.status == ChangeStatus::Failed => {}
            _ => {
                (self.on_event)(ApplyEvent::Change(result.clone()));
                *slot = Some(result);
            }
        }
    }
}

/// Appended to the message of a change that failed in a request one of whose
/// attempts got no complete answer.
pub const LOST_ATTEMPT_NOTE: &str = "an attempt of this request got no complete answer, so \
     UMAPI may have applied it already (a rename or removal then fails as not found when \
     repeated); a new plan shows what is left";

/// A failure in a request whose earlier attempt may have been executed unseen
/// may be that attempt's own doing: say so rather than report a plain failure.
fn note_lost_attempt(changes: &mut [ChangeResult]) {
    for change in changes
        .iter_mut()
        .filter(|c| c.status == ChangeStatus::Failed)
    {
        let message = change.message.take().unwrap_or_default();
        change.message = Some(if message.is_empty() {
            LOST_ATTEMPT_NOTE.to_owned()
        } else {
            format!("{message} ({LOST_ATTEMPT_NOTE})")
        });
    }
}

/// In test mode, a "not found" for a user or group that an earlier change of the
/// plan creates is what UMAPI's test mode always answers, not a failure.
fn mark_unverified(plan: &Plan, created: &HashSet<String>, changes: &mut [ChangeResult]) {
    if created.is_empty() {
        return;
    }
    for result in changes {
        let not_found = result
            .error_code
            .as_deref()
            .is_some_and(|code| code.contains("not_found") || code.contains("nonexistent"));
        let depends = plan
            .changes
            .get(result.change as usize)
            .is_some_and(|change| depends_on_created(&change.kind, created));
        if result.status == ChangeStatus::Failed && not_found && depends {
            result.status = ChangeStatus::Unverified;
        }
    }
}

/// Lower-cased names of the users and user groups that the plan creates or
/// renames: test mode cannot see them, so commands naming them fail there.
fn created_names(plan: &Plan) -> HashSet<String> {
    plan.changes
        .iter()
        .filter_map(|change| match &change.kind {
            ChangeKind::CreateGroup { group, .. } | ChangeKind::RenameGroup { group, .. } => {
                Some(group.to_lowercase())
            }
            ChangeKind::CreateUser { user, .. } | ChangeKind::RenameUser { user, .. } => {
                Some(user.to_lowercase())
            }
            _ => None,
        })
        .collect()
}

/// Whether a change names an object that another change of the plan creates.
fn depends_on_created(kind: &ChangeKind, created: &HashSet<String>) -> bool {
    let names: &[&String] = match kind {
        ChangeKind::AddMembership { user, group, .. }
        | ChangeKind::RemoveMembership { user, group, .. } => &[user, group],
        ChangeKind::UpdateUser { user, .. } | ChangeKind::RemoveUser { user, .. } => &[user],
        ChangeKind::ReassertGroup { group, .. } | ChangeKind::DeleteGroup { group, .. } => &[group],
        ChangeKind::CreateGroup { .. }
        | ChangeKind::RenameGroup { .. }
        | ChangeKind::CreateUser { .. }
        | ChangeKind::RenameUser { .. } => &[],
    };
    names
        .iter()
        .any(|name| created.contains(&name.to_lowercase()))
}

/// Every change carried by a request, once each, in order of first appearance.
fn carried_changes(request: &Request) -> Vec<ChangeId> {
    let mut seen = std::collections::BTreeSet::new();
    request
        .changes
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Error code of a change whose step never ran because an earlier step of the
/// same entry failed.
pub const NOT_RUN: &str = "not_run";

/// UMAPI's error code for a list, or an entry, with more names than it accepts.
pub const LIST_TOO_LONG: &str = "error.command.add_remove.list_too_long";

/// The steps of a refused entry that did not run, with the changes of each.
struct Leftover {
    /// The entry with only those steps.
    entry: Entry,
    ids: Vec<Vec<ChangeId>>,
    /// Names of the entry's steps that ran before the refused one.
    accepted: usize,
    /// Names of the longest list left.
    longest: usize,
}

/// The names of a step's `add`/`remove` list, if it has one.
fn step_names(entry: &Entry, step: usize) -> Option<&Vec<String>> {
    match entry {
        Entry::User(user) => match user.steps.get(step)? {
            UserStep::Add(GroupList::Groups { group })
            | UserStep::Remove(GroupList::Groups { group }) => Some(group),
            _ => None,
        },
        Entry::UserGroup(group) => match group.steps.get(step)? {
            UserGroupStep::Add(UserGroupTargets::Users { user })
            | UserGroupStep::Remove(UserGroupTargets::Users { user }) => Some(user),
            UserGroupStep::Add(UserGroupTargets::Profiles {
                product_configuration,
            })
            | UserGroupStep::Remove(UserGroupTargets::Profiles {
                product_configuration,
            }) => Some(product_configuration),
            _ => None,
        },
    }
}

fn step_count(entry: &Entry) -> usize {
    match entry {
        Entry::User(user) => user.steps.len(),
        Entry::UserGroup(group) => group.steps.len(),
    }
}

/// The entries of `request` that `response` refuses as too long, from the
/// refused step on.
fn leftovers(request: &Request, response: &ActionResponse) -> Vec<Leftover> {
    let mut out = Vec::new();
    for error in &response.errors {
        if error.error_code != LIST_TOO_LONG {
            continue;
        }
        let (Some(index), step) = (error.index, error.step.unwrap_or(0)) else {
            continue;
        };
        let (Some(entry), Some(ids)) = (request.entries.get(index), request.changes.get(index))
        else {
            continue;
        };
        let count = step_count(entry);
        if step >= count {
            continue;
        }
        let names = |range: std::ops::Range<usize>| -> Vec<usize> {
            range
                .map(|s| step_names(entry, s).map_or(0, Vec::len))
                .collect()
        };
        let mut rest = entry.clone();
        match &mut rest {
            Entry::User(user) => {
                user.steps.drain(..step);
            }
            Entry::UserGroup(group) => {
                group.steps.drain(..step);
            }
        }
        out.push(Leftover {
            entry: rest,
            ids: ids.iter().skip(step).cloned().collect(),
            accepted: names(0..step).iter().sum(),
            longest: names(step..count).into_iter().max().unwrap_or(0),
        });
    }
    out
}

/// The next size to try (names per step, steps per entry), once each. When steps
/// of a refused entry ran, the server took that many names in one entry, so the
/// limit is per entry: entries get at most that many. Otherwise lists are halved.
fn smaller_size(
    pending: &[Leftover],
    tried: &mut HashSet<(usize, usize)>,
) -> Option<(usize, usize)> {
    let longest = pending.iter().map(|l| l.longest).max().unwrap_or(0);
    let steps_now = pending
        .iter()
        .map(|l| step_count(&l.entry))
        .max()
        .unwrap_or(1);
    let accepted = pending.iter().map(|l| l.accepted).filter(|&a| a > 0).min();
    let (mut names, mut steps) = match accepted {
        Some(budget) => {
            let names = longest.min(budget).max(1);
            (names, (budget / names).max(1))
        }
        None => (longest.div_ceil(2).max(1), steps_now),
    };
    while !tried.insert((names, steps)) {
        if names > 1 {
            names = names.div_ceil(2);
        } else if steps > 1 {
            steps = steps.div_ceil(2);
        } else {
            return None;
        }
    }
    // Nothing smaller than what was refused: one name in one step cannot shrink.
    if longest <= 1 && steps_now <= 1 && accepted.is_none() {
        return None;
    }
    Some((names, steps))
}

/// A leftover cut into entries of at most `steps` steps of at most `names` names;
/// a list step's changes are cut with its names when there is one per name.
fn split(left: &Leftover, names: usize, steps: usize) -> Vec<(Entry, Vec<Vec<ChangeId>>)> {
    let mut units: Vec<(usize, Option<Vec<String>>, Vec<ChangeId>)> = Vec::new();
    for (at, ids) in left.ids.iter().enumerate() {
        match step_names(&left.entry, at) {
            Some(list) if list.len() > names => {
                let per_name = ids.len() == list.len();
                for (chunk_index, chunk) in list.chunks(names).enumerate() {
                    let chunk_ids = if per_name {
                        ids[chunk_index * names..][..chunk.len()].to_vec()
                    } else {
                        ids.clone()
                    };
                    units.push((at, Some(chunk.to_vec()), chunk_ids));
                }
            }
            _ => units.push((at, None, ids.clone())),
        }
    }
    units
        .chunks(steps)
        .map(|chunk| {
            let ids = chunk.iter().map(|(_, _, ids)| ids.clone()).collect();
            let entry = match &left.entry {
                Entry::User(user) => Entry::User(UserEntry {
                    steps: chunk
                        .iter()
                        .map(|(at, list, _)| with_names_user(&user.steps[*at], list))
                        .collect(),
                    ..user.clone()
                }),
                Entry::UserGroup(group) => Entry::UserGroup(UserGroupEntry {
                    steps: chunk
                        .iter()
                        .map(|(at, list, _)| with_names_group(&group.steps[*at], list))
                        .collect(),
                    ..group.clone()
                }),
            };
            (entry, ids)
        })
        .collect()
}

fn with_names_user(step: &UserStep, names: &Option<Vec<String>>) -> UserStep {
    let Some(names) = names else {
        return step.clone();
    };
    match step {
        UserStep::Add(_) => UserStep::Add(GroupList::Groups {
            group: names.clone(),
        }),
        UserStep::Remove(_) => UserStep::Remove(GroupList::Groups {
            group: names.clone(),
        }),
        other => other.clone(),
    }
}

fn with_names_group(step: &UserGroupStep, names: &Option<Vec<String>>) -> UserGroupStep {
    let Some(names) = names else {
        return step.clone();
    };
    let targets = |targets: &UserGroupTargets| match targets {
        UserGroupTargets::Profiles { .. } => UserGroupTargets::Profiles {
            product_configuration: names.clone(),
        },
        _ => UserGroupTargets::Users {
            user: names.clone(),
        },
    };
    match step {
        UserGroupStep::Add(t) => UserGroupStep::Add(targets(t)),
        UserGroupStep::Remove(t) => UserGroupStep::Remove(targets(t)),
        other => other.clone(),
    }
}

/// A failure's code and message.
#[derive(Clone)]
struct Failure {
    code: String,
    message: String,
}

/// Maps a response's errors at (entry index, step) back to the changes those
/// steps carry. A request-level failure (a `result` that is an error code and no
/// step errors) fails every change of the request.
fn results_of_response(
    phase: PhaseName,
    request: &Request,
    response: &ActionResponse,
    test_only: bool,
) -> Vec<ChangeResult> {
    let request_level =
        response.errors.is_empty() && !matches!(response.result.as_str(), "success" | "partial");
    if request_level {
        return fail_all(
            phase,
            request,
            &response.result,
            "UMAPI refused the whole request",
        );
    }
    // The steps of an entry run in order and stop at the first failure: the
    // failed step's changes failed, and those of the steps after it never ran.
    let mut failed: std::collections::BTreeMap<ChangeId, Failure> = Default::default();
    let mut unplaced = Vec::new();
    for error in &response.errors {
        let Some(steps) = error.index.and_then(|e| request.changes.get(e)) else {
            unplaced.push(error);
            continue;
        };
        let first = error.step.unwrap_or(0);
        if first >= steps.len() && !steps.is_empty() {
            unplaced.push(error);
            continue;
        }
        for (at, ids) in steps.iter().enumerate().skip(first) {
            let failure = if at == first || error.step.is_none() {
                Failure {
                    code: error.error_code.clone(),
                    message: error.message.clone(),
                }
            } else {
                Failure {
                    code: NOT_RUN.to_owned(),
                    message: format!(
                        "not run: step {} of the same command failed with {}",
                        first + 1,
                        error.error_code
                    ),
                }
            };
            for id in ids {
                failed.entry(*id).or_insert_with(|| failure.clone());
            }
        }
    }
    if let Some(error) = unplaced.first() {
        // An error that does not point at a step of this request cannot be
        // attributed; claiming success for anything would be a guess.
        let message = format!(
            "{} (reported without a usable entry/step position)",
            error.message
        );
        return fail_all(phase, request, &error.error_code, &message);
    }
    carried_changes(request)
        .into_iter()
        .map(|id| match failed.get(&id) {
            Some(failure) => ChangeResult {
                change: id,
                phase,
                status: ChangeStatus::Failed,
                error_code: Some(failure.code.clone()),
                message: Some(failure.message.clone()),
            },
            None => ChangeResult {
                change: id,
                phase,
                status: if test_only {
                    ChangeStatus::Validated
                } else {
                    ChangeStatus::Succeeded
                },
                error_code: None,
                message: None,
            },
        })
        .collect()
}

fn fail_all(phase: PhaseName, request: &Request, code: &str, message: &str) -> Vec<ChangeResult> {
    carried_changes(request)
        .into_iter()
        .map(|id| ChangeResult {
            change: id,
            phase,
            status: ChangeStatus::Failed,
            error_code: Some(code.to_owned()),
            message: Some(message.to_owned()),
        })
        .collect()
}

/// What to do about a server error, for the errors that need more than UMAPI's message.
/// UMAPI's group listing does not say which user groups are read-only (synced from a
/// directory or owned by another org), so the planner cannot leave them out; their
/// errors say so here instead.
pub fn error_hint(code: &str) -> Option<&'static str> {
    code.starts_with("error.usergroup.readonly.").then_some(
        "the user group is read-only (synced from a directory or owned by another org): \
         change it where it comes from, and list it under settings.exclude.groups so that \
         umapi leaves it and its members alone",
    )
}
