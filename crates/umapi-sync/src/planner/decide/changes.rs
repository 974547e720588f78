//! Decisions turned into the numbered change list, in phase order.

use std::collections::BTreeMap;

use umapi_core::wire::{GroupType, UserStep};

use super::{Builder, Decisions, lower, split_profiles};
use crate::current::AccountKey;
use crate::plan::{ChangeKind, FieldChange, GroupKind, PhaseName};
use crate::planner::change::ChangeList;
use crate::written::{description_hash, profiles_hash};

/// Everything decided, ready for limits and packing.
pub(crate) struct Built {
    pub changes: ChangeList,
    pub warnings: Vec<String>,
    pub not_verifiable: Vec<crate::plan::NotVerifiable>,
    /// Touched users by snapshot key: their snapshot index (if any) and the groups
    /// touched for them (lower-cased current names).
    pub touched_users: BTreeMap<AccountKey, TouchedUser>,
    /// Touched groups by lower-cased name: current type.
    pub touched_groups: BTreeMap<String, Option<GroupType>>,
    /// Current memberships in managed groups, for percentage limits.
    pub managed_memberships: u64,
}

/// A user the plan touches, for its preconditions.
pub(crate) struct TouchedUser {
    /// Index into the snapshot's users; `None` for users the plan creates.
    pub current: Option<u32>,
    /// Lower-cased current names of the groups touched for the user.
    pub groups: Vec<String>,
}

impl<'a> Builder<'a> {
    /// The declared write-only values of the group named `current` in the org that
    /// need sending: all on `reassert`, else those that differ from what umapi last
    /// wrote to it.
    fn to_send(
        &self,
        current: &str,
        description: &Option<String>,
        profiles: &[String],
    ) -> (Option<String>, Vec<String>) {
        let options = self.options;
        let written = options.written.group(&self.snapshot.org_id, current);
        let description = description.clone().filter(|d| {
            options.reassert
                || written.and_then(|w| w.description.as_deref())
                    != Some(description_hash(d).as_str())
        });
        let profiles_changed = options.reassert
            || written.and_then(|w| w.profiles.as_deref())
                != Some(profiles_hash(profiles).as_str());
        let profiles = if profiles_changed {
            profiles.to_vec()
        } else {
            Vec::new()
        };
        (description, profiles)
    }

    /// Turns the decisions into the numbered change list, in a fixed order.
    pub(super) fn emit(self, mut out: Decisions, managed_memberships: u64) -> Built {
        let mut changes = ChangeList::default();
        let mut touched_users: BTreeMap<AccountKey, TouchedUser> = BTreeMap::new();
        let mut touched_groups: BTreeMap<String, Option<GroupType>> = BTreeMap::new();
        let snapshot = self.snapshot;
        let group_type_of = |name: &str| -> Option<GroupType> {
            let key = lower(name);
            snapshot
                .groups
                .binary_search_by(|g| lower(&g.name).cmp(&key))
                .ok()
                .map(|i| snapshot.groups[i].group_type.clone())
        };
        let reassert = |group: &str, description: Option<String>, profiles: Vec<String>| {
            ChangeKind::ReassertGroup {
                group: group.to_string(),
                description,
                profiles,
            }
        };

        // Phase 1: group creates, renames and write-only values.
        // (lower-cased group, field) of the write-only values sent.
        let mut sent: Vec<(String, &str)> = Vec::new();
        let mut group_specs: Vec<_> = self.group_specs.iter().collect();
        group_specs.sort_by_key(|spec| lower(&self.managed[spec.managed as usize].name));
        for spec in group_specs {
            let managed = &self.managed[spec.managed as usize];
            let name = &managed.name;
            let key = lower(name);
            let description = &spec.description;
            let profiles = &spec.profiles;
            match (&managed.current, managed.renamed) {
                (None, _) => {
                    // Profiles beyond what the create entry holds are linked by extra
                    // (uncounted) changes after the group phase, so that every change
                    // stays within one entry and one request.
                    let (head, rest) = split_profiles(profiles, 1);
                    changes.group(
                        ChangeKind::CreateGroup {
                            group: name.clone(),
                            description: description.clone(),
                            profiles: head,
                        },
                        PhaseName::GroupCreatesAndUpdates,
                        name,
                    );
                    sent.push((key.clone(), "description"));
                    sent.push((key.clone(), "profiles"));
                    touched_groups.insert(key, None);
                    for chunk in rest {
                        changes.group(reassert(name, None, chunk), PhaseName::MembershipAdds, name);
                    }
                }
                (Some(from), true) => {
                    changes.group(
                        ChangeKind::RenameGroup {
                            group: name.clone(),
                            from: from.clone(),
                        },
                        PhaseName::GroupCreatesAndUpdates,
                        from,
                    );
                    touched_groups.insert(key.clone(), None);
                    touched_groups.insert(lower(from), Some(GroupType::UserGroup));
                    let (description, profiles) = self.to_send(from, description, profiles);
                    // The description rides on the rename step (addressed by the old
                    // name); profile links follow under the new name in a later phase
                    // (steps after a rename in the same entry would still name the old
                    // group). Separate re-assertions, so that each lands in exactly
                    // one request.
                    if let Some(description) = description {
                        sent.push((key.clone(), "description"));
                        changes.group(
                            reassert(name, Some(description), Vec::new()),
                            PhaseName::GroupCreatesAndUpdates,
                            from,
                        );
                    }
                    if !profiles.is_empty() {
                        sent.push((key.clone(), "profiles"));
                    }
                    let (head, mut rest) = split_profiles(&profiles, 0);
                    if !head.is_empty() {
                        rest.insert(0, head);
                    }
                    for chunk in rest {
                        changes.group(reassert(name, None, chunk), PhaseName::MembershipAdds, name);
                    }
                }
                (Some(current), false) => {
                    let (description, profiles) = self.to_send(current, description, profiles);
                    if description.is_none() && profiles.is_empty() {
                        continue;
                    }
                    if description.is_some() {
                        sent.push((key.clone(), "description"));
                    }
                    if !profiles.is_empty() {
                        sent.push((key.clone(), "profiles"));
                    }
                    touched_groups.insert(key, Some(GroupType::UserGroup));
                    // The group exists, so its entries may run in any order: all
                    // stay in the group phase, one change per entry.
                    let (head, rest) =
                        split_profiles(&profiles, usize::from(description.is_some()));
                    let first = (description, head);
                    for (description, chunk) in
                        std::iter::once(first).chain(rest.into_iter().map(|c| (None, c)))
                    {
                        if description.is_none() && chunk.is_empty() {
                            continue;
                        }
                        changes.group(
                            reassert(name, description, chunk),
                            PhaseName::GroupCreatesAndUpdates,
                            name,
                        );
                    }
                }
            }
        }
        let mut not_verifiable = self.not_verifiable;
        not_verifiable.retain(|item| {
            sent.iter()
                .any(|(group, field)| *group == lower(&item.group) && *field == item.field)
        });

        out.users.sort_by(|a, b| a.key.cmp(&b.key));

        // Phase 2: user creates with their memberships (the packer moves those that
        // do not fit the create entry to the adds phase).
        for d in out.users.iter() {
            let Some(create) = &d.create else {
                continue;
            };
            let (firstname, lastname) = match &create.step {
                UserStep::CreateFederatedId(c)
                | UserStep::CreateEnterpriseId(c)
                | UserStep::AddAdobeId(c) => (c.firstname.clone(), c.lastname.clone()),
                _ => (None, None),
            };
            let shown = d.target.display();
            let phase = PhaseName::UserCreates;
            changes.user(
                ChangeKind::CreateUser {
                    user: shown.clone(),
                    identity_type: create.identity_type,
                    email: create.email.clone(),
                    firstname,
                    lastname,
                    country: create.country.clone(),
                },
                phase,
                &d.target,
            );
            if let Some(username) = &d.create_username {
                changes.user(
                    ChangeKind::UpdateUser {
                        user: shown.clone(),
                        fields: vec![FieldChange {
                            field: "username".into(),
                            old: None,
                            new: Some(username.clone()),
                        }],
                    },
                    phase,
                    &d.target,
                );
            }
            for &m in &d.adds {
                let managed = &self.managed[m as usize];
                changes.user(
                    ChangeKind::AddMembership {
                        user: shown.clone(),
                        group: managed.name.clone(),
                        group_kind: managed.kind,
                    },
                    phase,
                    &d.target,
                );
                if managed.kind != GroupKind::UserGroup || managed.current.is_some() {
                    touched_groups.insert(lower(&managed.name), group_type_of(&managed.name));
                }
            }
            touched_users.insert(
                d.key.clone(),
                TouchedUser {
                    current: None,
                    groups: Vec::new(),
                },
            );
        }

        // Phase 3: user updates and renames, addressed by the name before the update.
        for d in out
            .users
            .iter()
            .filter(|d| !d.update.is_empty() || !d.rename.is_empty())
        {
            let shown = d.after.as_ref().unwrap_or(&d.target).display();
            if !d.rename.is_empty() {
                changes.user(
                    ChangeKind::RenameUser {
                        user: shown.clone(),
                        from: d.target.display(),
                        fields: d.rename.clone(),
                    },
                    PhaseName::UserUpdates,
                    &d.target,
                );
            }
            if !d.update.is_empty() {
                changes.user(
                    ChangeKind::UpdateUser {
                        user: shown.clone(),
                        fields: d.update.clone(),
                    },
                    PhaseName::UserUpdates,
                    &d.target,
                );
            }
        }

        // Phases 4 and 5: membership removals, then adds (of existing users), under
        // the users' names after the update phase.
        for adding in [false, true] {
            for d in out
                .users
                .iter()
                .filter(|d| d.create.is_none() && d.leave.is_none())
            {
                let list = if adding { &d.adds } else { &d.removes };
                let target = d.after.as_ref().unwrap_or(&d.target);
                let shown = target.display();
                for &m in list {
                    let managed = &self.managed[m as usize];
                    let (kind, phase) = if adding {
                        (
                            ChangeKind::AddMembership {
                                user: shown.clone(),
                                group: managed.name.clone(),
                                group_kind: managed.kind,
                            },
                            PhaseName::MembershipAdds,
                        )
                    } else {
                        (
                            ChangeKind::RemoveMembership {
                                user: shown.clone(),
                                group: managed.name.clone(),
                                group_kind: managed.kind,
                            },
                            PhaseName::MembershipRemovals,
                        )
                    };
                    changes.user(kind, phase, target);
                }
            }
        }

        // Phase 6: users leaving the org.
        for d in out.users.iter() {
            let Some(leave) = &d.leave else {
                continue;
            };
            changes.user(
                ChangeKind::RemoveUser {
                    user: d.target.display(),
                    identity_type: leave.identity_type,
                    delete_account: leave.delete_account,
                },
                PhaseName::UsersLeavingOrg,
                &d.target,
            );
        }

        // Phase 7: group deletes.
        out.deletes.sort_by_key(|d| lower(&d.group));
        for delete in &out.deletes {
            changes.group(
                ChangeKind::DeleteGroup {
                    group: delete.group.clone(),
                    member_count: delete.member_count,
                },
                PhaseName::GroupDeletes,
                &delete.group,
            );
            touched_groups.insert(lower(&delete.group), Some(GroupType::UserGroup));
        }

        // Preconditions of existing users: the groups touched for them.
        for d in &out.users {
            let Some(current) = d.current else { continue };
            let mut groups: Vec<String> = d
                .adds
                .iter()
                .chain(d.removes.iter())
                .filter_map(|&m| {
                    let managed = &self.managed[m as usize];
                    managed.current.as_deref().map(lower)
                })
                .collect();
            groups.sort();
            groups.dedup();
            for &m in d.adds.iter().chain(d.removes.iter()) {
                let managed = &self.managed[m as usize];
                if let Some(current) = &managed.current {
                    touched_groups
                        .entry(lower(current))
                        .or_insert_with(|| group_type_of(current));
                }
            }
            touched_users.insert(
                d.key.clone(),
                TouchedUser {
                    current: Some(current),
                    groups,
                },
            );
        }

        Built {
            changes,
            warnings: self.warnings,
            not_verifiable,
            touched_users,
            touched_groups,
            managed_memberships,
        }
    }
}
