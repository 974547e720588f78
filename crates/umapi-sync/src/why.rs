//! `umapi why USER`: every membership a user has in the desired state, each with
//! the lines of the state files that give it; with the org (live or a snapshot),
//! what the org has now for the user and what a plan would change.

use std::path::Path;

use serde::Serialize;
use umapi_core::wire::IdentityType;

use crate::current::{Snapshot, SnapshotUser};
use crate::desired::{DesiredState, Target, UnlistedUsers, UserSpec};
use crate::error::Error;
use crate::plan::{Change, GroupKind};
use crate::planner::{PlanOptions, PlanTarget};
use crate::provenance::Sources;

/// Why a user has the access it has (or would have).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Why {
    /// The user as asked about.
    pub asked: String,
    /// The user's entry in the state files; absent when no user is declared so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declared>,
    /// For a user the state files do not declare: what umapi does with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undeclared: Option<Undeclared>,
    /// With the org: what it has now for the user, and what a plan would change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgSide>,
}

/// A declared user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declared {
    /// The identity as written (email, or username with its domain).
    pub user: String,
    /// Where the user's entry starts (`path:line`).
    pub source: String,
    /// The identity type (the user's own, else `settings.default_type`).
    pub identity_type: IdentityType,
    /// The earlier name (`previously:`) the user was asked about by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previously: Option<String>,
    /// The user's last day in the org (`until:`), and where it is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// Every user group, product profile and admin group the user should be in.
    pub memberships: Vec<Membership>,
}

/// A last day of access and the line that sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Until {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The `until:` line (`path:line`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Whether the day has passed, so the access is removed.
    pub passed: bool,
}

/// One group, profile or admin group a declared user should be in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    /// The name as declared.
    pub group: String,
    /// Its kind.
    pub group_kind: GroupKind,
    /// The lines that make the user a direct member (the user's `groups:` entry,
    /// the group's `members:` entry); empty when it comes only through user groups.
    pub sources: Vec<String>,
    /// The membership's last day, when the `groups:` entry sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// The user groups of the user that are linked to this product profile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub through: Vec<Through>,
}

/// A product profile reached through a user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Through {
    /// The user group.
    pub group: String,
    /// Where the group is declared (`path:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_source: Option<String>,
    /// The group's `profiles:` entry naming the profile (`path:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What umapi does with a user the state files do not declare.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undeclared {
    /// `settings.unlisted_users`.
    pub unlisted_users: UnlistedUsers,
    /// Where it is written (`path:line`); absent when it is the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// The declared user whose name is closest to the one asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
}

/// The user in the org.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgSide {
    /// The user as the org has it; absent when the org has no such user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<SnapshotUser>,
    /// What a plan would change for this user (a plan limited to `user:USER`).
    pub changes: Vec<Change>,
}

/// Everything known about `asked`: from the desired state, and from the org when
/// one is given. `options` are those a plan would be made with: their day decides
/// which `until` has passed, and their `sources_root` what paths are relative to.
pub fn explain(
    desired: &DesiredState,
    asked: &str,
    options: &PlanOptions,
    org: Option<&Snapshot>,
) -> Result<Why, Error> {
    let today = options.today;
    let root = options.sources_root.as_deref();
    let (index, previously) = find(desired, asked);
    let mut sources = Sources::new(desired, root);
    let declared = index.map(|index| {
        declared(
            desired,
            &mut sources,
            index,
            previously.map(str::to_owned),
            today,
        )
    });
    let undeclared = index.is_none().then(|| Undeclared {
        unlisted_users: desired.settings.unlisted_users,
        setting: setting_line(desired, "unlisted_users", root),
        did_you_mean: crate::yaml::closest(
            asked,
            desired
                .users
                .iter()
                .flat_map(|user| [user.email.as_deref(), user.username.as_deref()])
                .flatten(),
        )
        .map(str::to_owned),
    });
    let org = match org {
        Some(snapshot) => {
            let names: Vec<String> = match index {
                Some(index) => {
                    let user = &desired.users[index];
                    [&user.email, &user.username]
                        .into_iter()
                        .flatten()
                        .chain(&user.previously)
                        .map(|name| name.to_string())
                        .collect()
                }
                None => vec![asked.to_owned()],
            };
            let current = snapshot
                .users
                .iter()
                .find(|user| {
                    [&user.email, &user.username]
                        .into_iter()
                        .flatten()
                        .any(|name| {
                            names
                                .iter()
                                .any(|wanted| wanted.to_lowercase() == name.to_lowercase())
                        })
                })
                .cloned();
            let target = index.map_or(asked.to_owned(), |index| {
                desired.users[index].display_identity()
            });
            let planned = match (&declared, &current) {
                (None, None) => Vec::new(),
                _ => {
                    let options = PlanOptions {
                        targets: vec![PlanTarget::User(identity_of(desired, index, &target))],
                        ..options.clone()
                    };
                    crate::planner::plan(desired, snapshot, &options)?.changes
                }
            };
            Some(OrgSide {
                current,
                changes: planned,
            })
        }
        None => None,
    };
    Ok(Why {
        asked: asked.to_owned(),
        declared,
        undeclared,
        org,
    })
}

/// The name a plan target gives the user: its email, else its username.
fn identity_of(desired: &DesiredState, index: Option<usize>, fallback: &str) -> String {
    index
        .and_then(|index| {
            let user = &desired.users[index];
            user.email.as_deref().or(user.username.as_deref())
        })
        .unwrap_or(fallback)
        .to_owned()
}

impl Why {
    /// Whether anything is known about the user: declared, or in the org.
    pub fn is_known(&self) -> bool {
        self.declared.is_some() || self.org.as_ref().is_some_and(|org| org.current.is_some())
    }

    /// The explanation as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The declared user named `asked` (email, username, or `username (domain)`,
/// without case), else the one that names it under `previously:`, with that name.
fn find<'d>(desired: &'d DesiredState, asked: &str) -> (Option<usize>, Option<&'d str>) {
    if let Some(index) = desired.user_index(asked) {
        return (Some(index), None);
    }
    let wanted = asked.to_lowercase();
    for (index, user) in desired.users.iter().enumerate() {
        if let Some(name) = user
            .previously
            .iter()
            .find(|name| name.to_lowercase() == wanted)
        {
            return (Some(index), Some(name));
        }
    }
    (None, None)
}

fn until_of(
    day: Option<&str>,
    line: Option<String>,
    today: Option<jiff::civil::Date>,
) -> Option<Until> {
    let day = day?;
    let passed =
        today.is_some_and(|today| crate::expiry::parse_day(day).is_some_and(|until| until < today));
    Some(Until {
        day: day.to_owned(),
        source: line,
        passed,
    })
}

fn declared(
    desired: &DesiredState,
    sources: &mut Sources<'_>,
    index: usize,
    previously: Option<String>,
    today: Option<jiff::civil::Date>,
) -> Declared {
    let user: &UserSpec = &desired.users[index];
    let origin = desired.origin_of_user(user);
    let origin = origin.as_ref();
    let mut memberships = Vec::new();
    for name in desired.memberships_of(index) {
        let group_kind = match desired.target(name) {
            Some(Target::Group(_)) => GroupKind::UserGroup,
            Some(Target::Profile(_)) => GroupKind::ProductProfile,
            _ => GroupKind::AdminGroup,
        };
        let entry = sources.entry_of(user, name);
        let until = entry.as_ref().and_then(|(_, membership)| {
            let line = membership.until_line.get().or(membership.line.get());
            until_of(membership.until.as_deref(), sources.at(origin, line), today)
        });
        memberships.push(Membership {
            group: name.to_owned(),
            group_kind,
            sources: sources.of_membership(index, name),
            until,
            through: Vec::new(),
        });
    }
    // Product profiles linked to the user's groups come through them, while the
    // membership of the group lasts.
    let groups: Vec<String> = memberships
        .iter()
        .filter(|membership| {
            membership.group_kind == GroupKind::UserGroup
                && !membership.until.as_ref().is_some_and(|until| until.passed)
        })
        .map(|membership| membership.group.clone())
        .collect();
    for group_name in groups {
        let Some(Target::Group(group)) = desired.target(&group_name) else {
            continue;
        };
        let group_origin = desired.origin_of(&group.name);
        for (position, profile) in group.profiles.iter().enumerate() {
            let link = group
                .profile_lines
                .get(position)
                .and_then(|line| sources.at(group_origin, line));
            let through = Through {
                group: group.name.clone(),
                group_source: sources.of_name(&group.name),
                link,
            };
            let found = memberships
                .iter_mut()
                .find(|membership| membership.group.to_lowercase() == profile.to_lowercase());
            match found {
                Some(membership) => membership.through.push(through),
                None => memberships.push(Membership {
                    group: profile.clone(),
                    group_kind: GroupKind::ProductProfile,
                    sources: Vec::new(),
                    until: None,
                    through: vec![through],
                }),
            }
        }
    }
    Declared {
        user: user.display_identity(),
        source: sources.of_user(user).unwrap_or_default(),
        identity_type: desired.identity_type_of(user),
        previously,
        until: until_of(
            user.until.as_deref(),
            sources.at(origin, user.until_line.get()),
            today,
        ),
        memberships,
    }
}

/// Where the setting `key` is written (`path:line`): under `settings:` in the
/// state file or `umapi.yaml` that holds the settings. Absent when it is not
/// written (the default applies) or the file cannot be read again.
fn setting_line(desired: &DesiredState, key: &str, root: Option<&Path>) -> Option<String> {
    let origin = desired.settings_origin.as_ref()?;
    let text = std::fs::read_to_string(&origin.file).ok()?;
    let tree = crate::yaml::parse(&origin.file, &text).ok()??;
    let mark = tree.get("settings")?.key_mark(key)?;
    Some(format!(
        "{}:{}",
        crate::provenance::relative_path(&origin.file, root),
        mark.line
    ))
}
