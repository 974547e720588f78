//! Declared user groups, profiles and admin groups matched to the org's groups.

use std::collections::{HashMap, HashSet};

use umapi_core::wire::GroupType;

use super::{Builder, GroupInfo, GroupSpec, Managed, lower};
use crate::error::Diagnostic;
use crate::plan::{GroupKind, NotVerifiable};

impl<'a> Builder<'a> {
    pub(super) fn resolve_groups(&mut self) {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let current: HashMap<String, &crate::current::SnapshotGroup> = snapshot
            .groups
            .iter()
            .map(|g| (lower(&g.name), g))
            .collect();
        let excluded: HashSet<String> = desired
            .settings
            .exclude
            .groups
            .iter()
            .map(|g| lower(g))
            .collect();

        for group in &desired.groups {
            let key = lower(&group.name);
            if self.by_declared.contains_key(&key) {
                continue;
            }
            let is_excluded = excluded.contains(&key);
            let (current_name, renamed) = match current.get(&key) {
                Some(found) if found.group_type == GroupType::UserGroup => {
                    (Some(found.name.clone()), false)
                }
                Some(found) => {
                    self.diagnostics.push(Diagnostic {
                        location: self.origin(&key),
                        message: format!(
                            "`{}` is declared as a user group, but the org has a {} of that name",
                            group.name,
                            GroupKind::of(&found.group_type).label()
                        ),
                        hint: Some(format!(
                            "declare it under `{}` instead, or choose another name",
                            if found.group_type == GroupType::ProductProfile {
                                "profiles"
                            } else {
                                "admin_groups"
                            }
                        )),
                    });
                    continue;
                }
                None => {
                    let old = group.previously.iter().find_map(|p| {
                        current
                            .get(&lower(p))
                            .filter(|g| g.group_type == GroupType::UserGroup)
                    });
                    match old {
                        Some(old) => (Some(old.name.clone()), true),
                        None => (None, false),
                    }
                }
            };
            // Renaming an excluded group would touch it: the declared group is then
            // left alone as well.
            let is_excluded = is_excluded
                || (renamed
                    && current_name
                        .as_deref()
                        .is_some_and(|c| excluded.contains(&lower(c))));
            if is_excluded {
                self.warnings.push(format!(
                    "user group {} is excluded by settings.exclude.groups; it is not touched",
                    match (&current_name, renamed) {
                        (Some(old), true) => format!("{} (previously {old})", group.name),
                        _ => group.name.clone(),
                    }
                ));
            }
            for profile in &group.profiles {
                match current.get(&lower(profile)) {
                    Some(found) if found.group_type == GroupType::ProductProfile => {}
                    _ => self.diagnostics.push(Diagnostic {
                        location: self.origin(&key),
                        message: format!(
                            "user group `{}` links product profile `{profile}`, which does not exist in the org",
                            group.name
                        ),
                        hint: Some(with_suggestion(
                            profile,
                            GroupKind::ProductProfile,
                            snapshot,
                            "product profiles cannot be created through the API; create it in the Admin Console, or correct the name",
                        )),
                    }),
                }
            }
            let index = self.push_managed(Managed {
                name: group.name.clone(),
                kind: GroupKind::UserGroup,
                current: current_name,
                renamed,
                excluded: is_excluded,
            });
            if !is_excluded {
                self.group_specs.push(GroupSpec {
                    managed: index,
                    description: group.description.clone(),
                    profiles: group.profiles.clone(),
                });
                if let Some(description) = &group.description {
                    self.not_verifiable.push(NotVerifiable {
                        group: group.name.clone(),
                        field: "description".into(),
                        value: description.clone(),
                    });
                }
                if !group.profiles.is_empty() {
                    self.not_verifiable.push(NotVerifiable {
                        group: group.name.clone(),
                        field: "profiles".into(),
                        value: group.profiles.join(", "),
                    });
                }
            }
        }

        let declared_profiles = desired
            .profiles
            .iter()
            .map(|p| (p, GroupKind::ProductProfile))
            .chain(
                desired
                    .admin_groups
                    .iter()
                    .map(|p| (p, GroupKind::AdminGroup)),
            );
        for (profile, kind) in declared_profiles {
            let key = lower(&profile.name);
            if self.by_declared.contains_key(&key) {
                continue;
            }
            if key == "_org_admin" {
                self.diagnostics.push(Diagnostic {
                    location: self.origin(&key),
                    message: "`_org_admin` cannot be managed: UMAPI cannot assign or remove system administrators".into(),
                    hint: Some("remove it from admin_groups; manage system administrators in the Admin Console".into()),
                });
                continue;
            }
            let found = current
                .get(&key)
                .filter(|g| GroupKind::of(&g.group_type) == kind);
            let Some(found) = found else {
                let what = kind.label();
                self.diagnostics.push(Diagnostic {
                    location: self.origin(&key),
                    message: format!("{what} `{}` does not exist in the org", profile.name),
                    hint: Some(with_suggestion(
                        &profile.name,
                        kind,
                        snapshot,
                        if kind == GroupKind::ProductProfile {
                            "product profiles cannot be created through the API; create it in the Admin Console, or correct the name"
                        } else {
                            "admin groups are created by the Admin Console with the group or profile they administer; correct the name"
                        },
                    )),
                });
                continue;
            };
            let is_excluded = excluded.contains(&key);
            if is_excluded {
                self.warnings.push(format!(
                    "{} {} is excluded by settings.exclude.groups; it is not touched",
                    kind.label(),
                    profile.name
                ));
            }
            self.push_managed(Managed {
                name: profile.name.clone(),
                kind,
                current: Some(found.name.clone()),
                renamed: false,
                excluded: is_excluded,
            });
        }

        let mut managed_by_current: HashMap<String, u32> = HashMap::new();
        for (index, managed) in self.managed.iter().enumerate() {
            if let (Some(current), false) = (&managed.current, managed.excluded) {
                managed_by_current.insert(lower(current), index as u32);
            }
        }
        for group in &snapshot.groups {
            let key = lower(&group.name);
            let info = GroupInfo {
                managed: managed_by_current.get(&key).copied(),
                excluded: excluded.contains(&key),
                admin: GroupKind::of(&group.group_type) == GroupKind::AdminGroup
                    || group.name.starts_with('_'),
            };
            self.by_current_exact.insert(group.name.as_str(), info);
            self.by_current_lower.insert(key, info);
        }
    }
}

/// `hint`, after "did you mean …?" when the org has a group of this kind whose
/// name is close to `name`.
fn with_suggestion(
    name: &str,
    kind: GroupKind,
    snapshot: &crate::current::Snapshot,
    hint: &str,
) -> String {
    let names = snapshot
        .groups
        .iter()
        .filter(|g| GroupKind::of(&g.group_type) == kind)
        .map(|g| g.name.as_str());
    match crate::yaml::did_you_mean(name, names) {
        Some(suggestion) => format!("{suggestion} {hint}"),
        None => hint.to_owned(),
    }
}
