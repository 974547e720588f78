//! Decisions turned into numbered changes and packing work, in a fixed order.

use super::*;

impl<'a> Builder<'a> {
    /// Turns the decisions into numbered changes and packing work, in a fixed order.
    pub(super) fn emit(self, mut out: Decisions, managed_memberships: u64) -> Built {
        let options = self.options;
        let mut changes: Vec<ChangeKind> = Vec::new();
        let mut work = Work::default();
        let mut touched_users: BTreeMap<String, (Option<u32>, Vec<String>)> = BTreeMap::new();
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
        let push = |changes: &mut Vec<ChangeKind>, kind: ChangeKind| -> ChangeId {
            changes.push(kind);
            (changes.len() - 1) as ChangeId
        };

        // Phase 1: group creates, renames and re-assertions.
        let mut group_specs = self.group_specs.clone();
        group_specs.sort_by_key(|(m, _, _)| lower(&self.managed[*m as usize].name));
        for (m, description, profiles) in &group_specs {
            let managed = &self.managed[*m as usize];
            let key = lower(&managed.name);
            match (&managed.current, managed.renamed) {
                (None, _) => {
                    // Profiles beyond what the create entry holds are linked by extra
                    // (uncounted) changes after the group phase, so that every change
                    // stays within one entry and one request.
                    let (head, rest) = split_profiles(profiles, 1);
                    let id = push(
                        &mut changes,
                        ChangeKind::CreateGroup {
                            group: managed.name.clone(),
                            description: description.clone(),
                            profiles: head.clone(),
                        },
                    );
                    touched_groups.insert(key, None);
                    work.groups.push(GroupWork::create(
                        &managed.name,
                        description.clone(),
                        head,
                        id,
                    ));
                    for chunk in rest {
                        let id = push(
                            &mut changes,
                            ChangeKind::ReassertGroup {
                                group: managed.name.clone(),
                                description: None,
                                profiles: chunk.clone(),
                            },
                        );
                        work.late_groups
                            .push(GroupWork::reassert(&managed.name, None, chunk, id));
                    }
                }
                (Some(from), true) => {
                    let id = push(
                        &mut changes,
                        ChangeKind::RenameGroup {
                            group: managed.name.clone(),
                            from: from.clone(),
                        },
                    );
                    touched_groups.insert(key, None);
                    touched_groups.insert(lower(from), Some(GroupType::UserGroup));
                    // The description rides on the rename step; profile links follow
                    // under the new name in a later phase (steps after a rename in the
                    // same entry would still name the old group). Separate
                    // re-assertions, so that each lands in exactly one request.
                    let description = description.clone().filter(|_| options.reassert_write_only);
                    let description_id = description.as_ref().map(|d| {
                        push(
                            &mut changes,
                            ChangeKind::ReassertGroup {
                                group: managed.name.clone(),
                                description: Some(d.clone()),
                                profiles: Vec::new(),
                            },
                        )
                    });
                    work.groups.push(GroupWork::rename(
                        from,
                        &managed.name,
                        description,
                        id,
                        description_id,
                    ));
                    if options.reassert_write_only {
                        let (head, mut rest) = split_profiles(profiles, 0);
                        if !head.is_empty() {
                            rest.insert(0, head);
                        }
                        for chunk in rest {
                            let id = push(
                                &mut changes,
                                ChangeKind::ReassertGroup {
                                    group: managed.name.clone(),
                                    description: None,
                                    profiles: chunk.clone(),
                                },
                            );
                            work.late_groups.push(GroupWork::reassert(
                                &managed.name,
                                None,
                                chunk,
                                id,
                            ));
                        }
                    }
                }
                (Some(_), false) => {
                    if options.reassert_write_only
                        && (description.is_some() || !profiles.is_empty())
                    {
                        touched_groups.insert(key, Some(GroupType::UserGroup));
                        // The group exists, so its entries may run in any order: all
                        // stay in the group phase, one change per entry.
                        let (head, rest) =
                            split_profiles(profiles, usize::from(description.is_some()));
                        let first = (description.clone(), head);
                        for (description, chunk) in
                            std::iter::once(first).chain(rest.into_iter().map(|c| (None, c)))
                        {
                            if description.is_none() && chunk.is_empty() {
                                continue;
                            }
                            let id = push(
                                &mut changes,
                                ChangeKind::ReassertGroup {
                                    group: managed.name.clone(),
                                    description: description.clone(),
                                    profiles: chunk.clone(),
                                },
                            );
                            work.groups.push(GroupWork::reassert(
                                &managed.name,
                                description,
                                chunk,
                                id,
                            ));
                        }
                    }
                }
            }
        }

        // Membership tables for packing.
        for managed in &self.managed {
            work.group_names
                .push((managed.name.clone(), lower(&managed.name), managed.kind));
        }

        out.users.sort_by(|a, b| a.key.cmp(&b.key));
        let mut user_removals = 0u64;
        let mut membership_removals = 0u64;

        // Phase 2: user creates with their memberships.
        for d in out.users.iter().filter(|d| d.create.is_some()) {
            let Some((step, identity_type, email, country)) = &d.create else {
                continue;
            };
            let (firstname, lastname) = match step {
                UserStep::CreateFederatedId(c)
                | UserStep::CreateEnterpriseId(c)
                | UserStep::AddAdobeId(c) => (c.firstname.clone(), c.lastname.clone()),
                _ => (None, None),
            };
            let shown = d.target.display();
            let id = push(
                &mut changes,
                ChangeKind::CreateUser {
                    user: shown.clone(),
                    identity_type: *identity_type,
                    email: email.clone(),
                    firstname,
                    lastname,
                    country: country.clone(),
                },
            );
            let update = d.create_username.as_ref().map(|username| {
                let id = push(
                    &mut changes,
                    ChangeKind::UpdateUser {
                        user: shown.clone(),
                        fields: vec![FieldChange {
                            field: "username".into(),
                            old: None,
                            new: Some(username.clone()),
                        }],
                    },
                );
                let update = UpdateUser {
                    username: Some(username.clone()),
                    ..UpdateUser::default()
                };
                (update, id)
            });
            let mut adds = Vec::new();
            for &m in &d.adds {
                let managed = &self.managed[m as usize];
                let add_id = push(
                    &mut changes,
                    ChangeKind::AddMembership {
                        user: shown.clone(),
                        group: managed.name.clone(),
                        group_kind: managed.kind,
                    },
                );
                adds.push((m, add_id));
                if managed.kind != GroupKind::UserGroup || managed.current.is_some() {
                    touched_groups.insert(lower(&managed.name), group_type_of(&managed.name));
                }
            }
            touched_users.insert(d.key.clone(), (None, Vec::new()));
            work.creates.push(CreateWork {
                target: d.target.clone(),
                step: step.clone(),
                id,
                update,
                adds,
            });
        }

        // Phase 3: user updates and renames.
        for d in out
            .users
            .iter()
            .filter(|d| !d.update.is_empty() || !d.rename.is_empty())
        {
            let shown = d.after.as_ref().unwrap_or(&d.target).display();
            let mut ids = Vec::new();
            let mut update = UpdateUser::default();
            if !d.rename.is_empty() {
                ids.push(push(
                    &mut changes,
                    ChangeKind::RenameUser {
                        user: shown.clone(),
                        from: d.target.display(),
                        fields: d.rename.clone(),
                    },
                ));
                for field in &d.rename {
                    match field.field.as_str() {
                        "email" => update.email = field.new.clone(),
                        _ => update.username = field.new.clone(),
                    }
                }
            }
            if !d.update.is_empty() {
                ids.push(push(
                    &mut changes,
                    ChangeKind::UpdateUser {
                        user: shown.clone(),
                        fields: d.update.clone(),
                    },
                ));
                for field in &d.update {
                    match field.field.as_str() {
                        "firstname" => update.firstname = field.new.clone(),
                        _ => update.lastname = field.new.clone(),
                    }
                }
            }
            work.updates.push(UpdateWork {
                target: d.target.clone(),
                update,
                ids,
            });
        }

        // Phases 4 and 5: membership removals, then adds (of existing users).
        for adding in [false, true] {
            for d in out
                .users
                .iter()
                .filter(|d| d.create.is_none() && d.leave.is_none())
            {
                let list = if adding { &d.adds } else { &d.removes };
                if list.is_empty() {
                    continue;
                }
                let target = d.after.as_ref().unwrap_or(&d.target);
                let shown = target.display();
                let user_index = work.targets.len() as u32;
                work.targets.push(target.clone());
                for &m in list {
                    let managed = &self.managed[m as usize];
                    let kind = if adding {
                        ChangeKind::AddMembership {
                            user: shown.clone(),
                            group: managed.name.clone(),
                            group_kind: managed.kind,
                        }
                    } else {
                        membership_removals += 1;
                        ChangeKind::RemoveMembership {
                            user: shown.clone(),
                            group: managed.name.clone(),
                            group_kind: managed.kind,
                        }
                    };
                    let id = push(&mut changes, kind);
                    let op = MembershipWork {
                        user: user_index,
                        group: m,
                        id,
                    };
                    if adding {
                        work.adds.push(op);
                    } else {
                        work.removals.push(op);
                    }
                }
            }
        }

        // Phase 6: users leaving the org.
        for d in out.users.iter().filter(|d| d.leave.is_some()) {
            let Some((delete, identity_type)) = d.leave else {
                continue;
            };
            user_removals += 1;
            let id = push(
                &mut changes,
                ChangeKind::RemoveUser {
                    user: d.target.display(),
                    identity_type,
                    delete_account: delete,
                },
            );
            work.leaves.push(LeaveWork {
                target: d.target.clone(),
                delete,
                id,
            });
        }

        // Phase 7: group deletes.
        out.deletes.sort_by_key(|(name, _)| lower(name));
        let group_deletions = out.deletes.len() as u64;
        for (name, member_count) in &out.deletes {
            let id = push(
                &mut changes,
                ChangeKind::DeleteGroup {
                    group: name.clone(),
                    member_count: *member_count,
                },
            );
            touched_groups.insert(lower(name), Some(GroupType::UserGroup));
            work.deletes.push((name.clone(), id));
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
            touched_users.insert(d.key.clone(), (Some(current), groups));
        }

        Built {
            changes,
            warnings: self.warnings,
            not_verifiable: self.not_verifiable,
            work,
            touched_users,
            touched_groups,
            user_removals,
            membership_removals,
            group_deletions,
            managed_memberships,
        }
    }
}
