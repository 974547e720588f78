//! Assembles the [`Plan`] document: numbered changes, packed phases, summary,
//! estimate and preconditions.

use super::PlanOptions;
use super::decide::Built;
use super::pack::pack;
use crate::current::Snapshot;
use crate::plan::{
    Change, ChangeKind, Estimate, GroupPrecondition, PLAN_FORMAT_VERSION, Plan, Preconditions,
    Summary, UserFacts, UserPrecondition,
};

fn summarize<'c>(changes: impl Iterator<Item = &'c ChangeKind>) -> Summary {
    let mut s = Summary::default();
    let mut changed_users = std::collections::HashSet::new();
    for change in changes {
        if let Some(user) = change.changed_user() {
            changed_users.insert(user);
        }
        match change {
            ChangeKind::CreateGroup { .. } => s.groups_created += 1,
            ChangeKind::RenameGroup { .. } => s.groups_renamed += 1,
            ChangeKind::DeleteGroup { .. } => s.groups_deleted += 1,
            ChangeKind::ReassertGroup { .. } => s.reasserted += 1,
            ChangeKind::CreateUser { .. } => s.users_created += 1,
            ChangeKind::UpdateUser { .. } => s.users_updated += 1,
            ChangeKind::RenameUser { .. } => s.users_renamed += 1,
            ChangeKind::AddMembership { .. } => s.memberships_added += 1,
            ChangeKind::RemoveMembership { .. } => s.memberships_removed += 1,
            ChangeKind::RemoveUser { delete_account, .. } => {
                if *delete_account {
                    s.users_deleted += 1;
                } else {
                    s.users_removed += 1;
                }
            }
        }
    }
    s.to_add = s.groups_created + s.users_created + s.memberships_added;
    s.to_change = s.groups_renamed + changed_users.len() as u64;
    s.to_remove = s.groups_deleted + s.users_removed + s.users_deleted + s.memberships_removed;
    s
}

impl Built {
    pub(crate) fn finish(
        self,
        desired_state_hash: String,
        current: &Snapshot,
        options: &PlanOptions,
        checked: super::limits::Checked,
    ) -> Plan {
        let packed = pack(&self.changes.0, options.packing);
        let changes: Vec<Change> = self
            .changes
            .0
            .into_iter()
            .enumerate()
            .map(|(id, change)| Change {
                id: id as u32,
                kind: change.kind,
                sources: Vec::new(),
                until: None,
            })
            .collect();
        let summary = summarize(changes.iter().map(|c| &c.kind));
        let requests: u64 = packed.phases.iter().map(|p| p.requests.len() as u64).sum();
        let duration_seconds = options.pacing.action_pacing(requests).as_secs_f64();
        let users = self
            .touched_users
            .into_iter()
            .map(|(key, touched)| UserPrecondition {
                key,
                current: touched
                    .current
                    .map(|i| UserFacts::of(&current.users[i as usize], &touched.groups)),
            })
            .collect();
        let groups = self
            .touched_groups
            .into_iter()
            .map(|(key, group_type)| GroupPrecondition { key, group_type })
            .collect();
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            org_id: current.org_id.clone(),
            desired_state_hash,
            summary,
            changes,
            warnings: self.warnings,
            not_verifiable: self.not_verifiable,
            phases: packed.phases,
            estimate: Estimate {
                requests,
                entries: packed.entries,
                lower_bound_requests: packed.lower_bound_requests,
                action_requests_per_minute: options.pacing.actions,
                duration_seconds,
            },
            preconditions: Preconditions { users, groups },
            blocked: checked.blocked,
            overrides: checked.overrides,
            reassert: options.reassert,
            expiring: Vec::new(),
            targets: Vec::new(),
            licences: Vec::new(),
        }
    }
}
