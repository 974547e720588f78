//! Merging state files into one [`DesiredState`], with the rules that need all of
//! them: duplicate definitions, one place for settings, references between users,
//! groups and profiles, renames, exclusions, and the defaults settings supply.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use umapi_core::wire::IdentityType;

use super::model::{unique_usernames, usernames_of};
use super::rules::{problem, user_pattern};
use super::{ExternalSettings, Source};
use crate::desired::{DesiredState, IdentityIndex, Location, Settings, UnlistedUsers, UserSpec};
use crate::error::Diagnostic;
use crate::yaml::{self, Step};
use umapi_core::identity::{UserKeyRef, normalized};

/// What kind of thing a managed name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Group,
    Profile,
    AdminGroup,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Group => "a user group",
            Kind::Profile => "a product profile",
            Kind::AdminGroup => "an admin group",
        }
    }

    fn list(self) -> &'static str {
        match self {
            Kind::Group => "groups",
            Kind::Profile => "profiles",
            Kind::AdminGroup => "admin_groups",
        }
    }
}

/// A managed name and where it was declared.
struct Declared {
    name: String,
    kind: Kind,
    location: Location,
}

/// Merges the parsed files and checks everything that spans them. Returns the
/// state (meaningful only when no problems were found) and the problems.
///
/// `complete` is false when some state files could not be read: what they declare
/// is unknown, so the checks that need every declaration (references to groups and
/// users, settings written nowhere else, no user at all) are left out: a name
/// declared in a broken file is no error of its own.
pub(crate) fn merge(
    mut sources: Vec<Source<'_>>,
    external: Option<&ExternalSettings>,
    complete: bool,
) -> (DesiredState, Vec<Diagnostic>) {
    // The users move into the state first, each file's list dropped as soon as it
    // is moved: the checks then read them there, and nothing they build is held
    // while the users are moved. The first file's list becomes the state's: the
    // users of an org kept in one file are not copied at all.
    let total: usize = sources.iter().map(|s| s.content.users.len()).sum();
    let mut users: Vec<UserSpec> = Vec::new();
    let mut firsts = Vec::with_capacity(sources.len());
    for source in &mut sources {
        firsts.push(users.len());
        let mut moved = std::mem::take(&mut source.content.users);
        for (index, user) in moved.iter_mut().enumerate() {
            user.origin = source.user_origin(index);
        }
        if users.is_empty() {
            users = moved;
            users.reserve_exact(total - users.len());
        } else {
            users.append(&mut moved);
        }
    }
    let all: Vec<&UserSpec> = users.iter().collect();
    let (mut state, found) = check(&sources, &all, &firsts, external, complete);
    drop(all);
    // The users keep their order, so the identities indexed by the checks index
    // the state's users.
    state.users = users;
    let from_users = std::mem::take(&mut state.members);
    for source in sources {
        let content = source.content;
        state.groups.extend(content.groups);
        state.profiles.extend(content.profiles);
        state.admin_groups.extend(content.admin_groups);
    }
    state.index_members(from_users);
    (state, found)
}

/// Every check across files; returns the problems and the state's settings,
/// origins, identities and usernames, with its members as far as the users'
/// `groups:` give them ([`merge`] fills its lists and adds the groups' `members:`).
#[cfg(test)]
pub(super) fn check_all(
    sources: &[Source<'_>],
    external: Option<&ExternalSettings>,
    complete: bool,
) -> (DesiredState, Vec<Diagnostic>) {
    let mut users = Vec::new();
    let mut firsts = Vec::with_capacity(sources.len());
    for source in sources {
        firsts.push(users.len());
        users.extend(&source.content.users);
    }
    check(sources, &users, &firsts, external, complete)
}

/// [`check_all`] with the files' users in `users`, those of file `f` from
/// `firsts[f]` on.
fn check(
    sources: &[Source<'_>],
    users: &[&UserSpec],
    firsts: &[usize],
    external: Option<&ExternalSettings>,
    complete: bool,
) -> (DesiredState, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut state = DesiredState::default();

    // Settings: written once at most.
    let mut settings_at: Option<Location> = None;
    if let Some(external) = external {
        state.settings = external.settings.clone();
        settings_at = Some(external.location.clone());
    }
    for source in sources {
        if let Some(settings) = &source.content.settings {
            let here = source.key_location("settings");
            match &settings_at {
                Some(first) => found.push(problem(
                    here,
                    format!("settings are written twice: here and at {first}"),
                    Some("keep one `settings:` block, in umapi.yaml or in one state file"),
                )),
                None => {
                    state.settings = settings.clone();
                    settings_at = Some(here);
                }
            }
        }
    }
    state.settings_origin = settings_at.clone();

    // An org emptied by mistake: with nothing under `users:` in any file (members of
    // groups and profiles must be declared users, so none can be declared either), a
    // policy that removes unlisted users would remove every user of the org.
    let removes = matches!(
        state.settings.unlisted_users,
        UnlistedUsers::Remove | UnlistedUsers::Delete
    );
    // The policy is not the default, so it was written somewhere.
    if removes
        && complete
        && users.is_empty()
        && let Some(settings_at) = &settings_at
    {
        let policy = match state.settings.unlisted_users {
            UnlistedUsers::Delete => "delete",
            _ => "remove",
        };
        let in_state_file = sources
            .iter()
            .find(|source| external.is_none() && source.content.settings.is_some());
        let location = match in_state_file {
            Some(source) => source.location(&[Step::Key("settings"), Step::Key("unlisted_users")]),
            None => settings_at.clone(),
        };
        found.push(problem(
            location,
            format!(
                "no user is declared, and `unlisted_users: {policy}` would {policy} every user \
                 of the org"
            ),
            Some(
                "declare the users (`umapi export` writes them from the org), or set \
                 `unlisted_users: ignore` while you migrate",
            ),
        ));
    }

    // Managed names: each declared once, across user groups, profiles and admin groups.
    let mut names: BTreeMap<String, Declared> = BTreeMap::new();
    for source in sources {
        let content = &source.content;
        let lists = [
            (
                Kind::Group,
                content.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
            ),
            (
                Kind::Profile,
                content.profiles.iter().map(|p| &p.name).collect(),
            ),
            (
                Kind::AdminGroup,
                content.admin_groups.iter().map(|a| &a.name).collect(),
            ),
        ];
        for (kind, list) in lists {
            for (index, name) in list.into_iter().enumerate() {
                let location = source.location(&[Step::Key(kind.list()), Step::Index(index)]);
                let key = name.to_lowercase();
                if let Some(first) = names.get(&key) {
                    let what = if first.kind == kind {
                        String::new()
                    } else {
                        format!(" (as {} here, as {} there)", kind.noun(), first.kind.noun())
                    };
                    found.push(problem(
                        location,
                        format!(
                            "`{name}` is defined twice{what}: here and at {}",
                            first.location
                        ),
                        Some("declare each group or profile once; merge the two definitions"),
                    ));
                } else {
                    names.insert(
                        key,
                        Declared {
                            name: name.clone(),
                            kind,
                            location,
                        },
                    );
                }
            }
        }
    }

    // Users: each identity (email, username) belongs to one user.
    // Identities are lower-cased only when they are not already (exports are), and
    // positions are made only for the origins and for problems: in a large org both
    // would otherwise cost allocations per user.
    // Each file's users with their index among all users.
    let numbered = || {
        sources.iter().enumerate().flat_map(|(file, source)| {
            let (first, end) = (
                firsts[file],
                firsts.get(file + 1).map_or(users.len(), |&end| end),
            );
            (users[first..end].iter().enumerate())
                .map(move |(index, &user)| (source, index, first + index, user))
        })
    };
    let user_at = |user_index: usize| {
        let file = firsts.partition_point(|&first| first <= user_index) - 1;
        let index = user_index - firsts[file];
        sources[file].location(&[Step::Key("users"), Step::Index(index)])
    };
    // The identities are indexed on a second thread while this one checks each
    // user's own declarations, which need no index: the references from users to
    // groups, and the settings' defaults and exclusions. Their problems are kept
    // apart and added where they were always reported.
    let settings_apply = complete || settings_at.is_some();
    let ((identities, by_username), (from_users, mut refs_found, mut settings_found)) =
        std::thread::scope(|scope| {
            let indexing = scope.spawn(|| {
                let identities = IdentityIndex::of(users.iter().copied());
                // Plain usernames (without domain) also name their user in
                // `members:` lists.
                (identities, usernames_of(users.iter().copied()))
            });
            let checked = check_users(
                numbered(),
                &names,
                complete,
                settings_apply.then_some(&state.settings),
            );
            let indexed = indexing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (indexed, checked)
        });
    let user = |index: usize| users[index];
    let find = |key: &UserKeyRef<'_>| identities.find(user, key);
    for (later, first) in identities.duplicates(user) {
        found.push(problem(
            user_at(later),
            format!(
                "user `{}` is defined twice: here and at {}",
                users[later].display_identity(),
                user_at(first)
            ),
            Some("declare each user once; merge the two entries"),
        ));
    }
    // Suggestions for unknown members go through the identities in order.
    let sorted_identities = std::cell::OnceCell::new();
    let sorted_identities = || {
        sorted_identities.get_or_init(|| {
            let mut all: Vec<String> = (users.iter())
                .flat_map(|user| user.identities())
                .map(|key| key.to_string())
                .collect();
            all.sort_unstable();
            all.dedup();
            all
        })
    };

    // Renames: an earlier identity or name is nobody's current one, and claimed once.
    let mut earlier_users: BTreeMap<String, (&Source<'_>, usize, usize)> = BTreeMap::new();
    for (source, index, _, user) in numbered() {
        for (position, earlier) in user.previously.iter().enumerate() {
            let location = || entry_location(source, "users", index, "previously", position);
            let key = earlier.to_lowercase();
            let other = UserKeyRef::from_reference(earlier)
                .and_then(|identity| find(&identity))
                .or_else(|| {
                    by_username
                        .get(&key)
                        .and_then(|users| users.first())
                        .and_then(|&i| find(&users[i].key()))
                });
            if let Some(other) = other
                && users[other].key() != user.key()
            {
                let other_at = user_at(other);
                found.push(problem(
                    location(),
                    format!(
                        "`{earlier}` in `previously` is the identity of another user, declared at {other_at}"
                    ),
                    Some("a user can only be renamed from an identity no other declared user has"),
                ));
            } else if let Some(&(first_source, first_index, first_position)) =
                earlier_users.get(&key)
            {
                let first = entry_location(
                    first_source,
                    "users",
                    first_index,
                    "previously",
                    first_position,
                );
                found.push(problem(
                    location(),
                    format!("`{earlier}` is in `previously` of two users (also at {first})"),
                    Some("only one user can be renamed from it; remove the other entry"),
                ));
            } else {
                earlier_users.insert(key, (source, index, position));
            }
        }
    }
    let mut earlier_groups: BTreeMap<String, (&Source<'_>, usize, usize)> = BTreeMap::new();
    for source in sources {
        for (index, group) in source.content.groups.iter().enumerate() {
            for (position, earlier) in group.previously.iter().enumerate() {
                let location = || entry_location(source, "groups", index, "previously", position);
                let key = earlier.to_lowercase();
                if let Some(other) = names.get(&key)
                    && other.name.to_lowercase() != group.name.to_lowercase()
                {
                    found.push(problem(
                        location(),
                        format!(
                            "`{earlier}` in `previously` is the name of {}, declared at {}",
                            other.kind.noun(),
                            other.location
                        ),
                        Some("a group can only be renamed from a name nothing else declares"),
                    ));
                } else if let Some(&(first_source, first_index, first_position)) =
                    earlier_groups.get(&key)
                {
                    let first = entry_location(
                        first_source,
                        "groups",
                        first_index,
                        "previously",
                        first_position,
                    );
                    found.push(problem(
                        location(),
                        format!("`{earlier}` is in `previously` of two groups (also at {first})"),
                        Some("only one group can be renamed from it; remove the other entry"),
                    ));
                } else {
                    earlier_groups.insert(key, (source, index, position));
                }
            }
        }
    }

    // References from groups to profiles, from members to users.
    found.append(&mut refs_found);
    for source in sources {
        for (index, group) in source.content.groups.iter().enumerate() {
            for (position, profile) in group.profiles.iter().enumerate() {
                let location = || entry_location(source, "groups", index, "profiles", position);
                match names.get(&profile.to_lowercase()) {
                    Some(declared) if declared.kind == Kind::Profile => {}
                    Some(declared) => found.push(problem(
                        location(),
                        format!(
                            "`{profile}` is {}, not a product profile (declared at {})",
                            declared.kind.noun(),
                            declared.location
                        ),
                        Some("a user group's `profiles:` lists product profiles only"),
                    )),
                    None if !complete => {}
                    None => {
                        found.push(undeclared(location(), profile, &names, Some(Kind::Profile)))
                    }
                }
            }
        }
        let member_lists = source
            .content
            .groups
            .iter()
            .map(|g| (Kind::Group, &g.name, &g.members))
            .chain(
                source
                    .content
                    .profiles
                    .iter()
                    .map(|p| (Kind::Profile, &p.name, &p.members)),
            )
            .chain(
                source
                    .content
                    .admin_groups
                    .iter()
                    .map(|a| (Kind::AdminGroup, &a.name, &a.members)),
            );
        let mut counters = [0usize; 3];
        for (kind, _, list) in member_lists {
            let slot = kind as usize;
            let index = counters[slot];
            counters[slot] += 1;
            for (position, member) in list.iter().enumerate() {
                let location = || entry_location(source, kind.list(), index, "members", position);
                let key = UserKeyRef::from_reference(member);
                let resolved = match key.and_then(|key| find(&key)) {
                    Some(_) => Ok(()),
                    None => match by_username
                        .get(normalized(member).as_ref())
                        .map(Vec::as_slice)
                    {
                        Some([_]) => Ok(()),
                        Some(several) => Err(problem(
                            location(),
                            format!(
                                "`{member}` is the username of {} users in different domains",
                                several.len()
                            ),
                            Some("name the member by email address, or as `username (domain)`"),
                        )),
                        None if !complete => Ok(()),
                        None => Err(unknown_user(location(), member, sorted_identities())),
                    },
                };
                if let Err(problem) = resolved {
                    found.push(problem);
                }
            }
        }
    }

    // Defaults from the settings, and exclusions, apply to every user; settings
    // found nowhere may be in a file that could not be read.
    if settings_apply {
        found.append(&mut settings_found);
        check_excluded_groups(&state.settings, &names, &mut found);
    }

    state.members = (from_users.into_iter())
        .map(|(name, users)| (name.to_owned(), users))
        .collect();
    for (key, declared) in names {
        state.origins.insert(key, declared.location);
    }
    state.identities = identities;
    state.usernames = unique_usernames(by_username);
    (state, found)
}

/// The users each declared name is given to on the users' `groups:` (the state's
/// member sets start from them), and the problems of the users' own declarations:
/// references to undeclared groups, then, when `settings` apply, what their
/// defaults and exclusions refuse.
#[allow(clippy::type_complexity)]
fn check_users<'s, 't: 's, 'n>(
    users: impl Iterator<Item = (&'s Source<'t>, usize, usize, &'s UserSpec)>,
    names: &'n BTreeMap<String, Declared>,
    complete: bool,
    settings: Option<&Settings>,
) -> (Vec<(&'n str, Vec<usize>)>, Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut refs_found = Vec::new();
    let mut settings_found = Vec::new();
    let settings = settings.map(|settings| (settings, exclusion_patterns(settings)));
    // Large files name the same few groups on many users: a name seen declared once,
    // as written, needs no lower-casing and look-up again.
    let mut from_users: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut declared: FxHashMap<&str, usize> = FxHashMap::default();
    for (source, index, user_index, user) in users {
        for (position, name) in user.groups.iter().enumerate() {
            if let Some(&slot) = declared.get(&*name.name) {
                from_users[slot].1.push(user_index);
                continue;
            }
            let location = || entry_location(source, "users", index, "groups", position);
            match names.get_key_value(&name.to_lowercase()) {
                Some((key, _)) => {
                    let slot = match from_users.iter().position(|(name, _)| name == key) {
                        Some(slot) => slot,
                        None => {
                            from_users.push((key, Vec::new()));
                            from_users.len() - 1
                        }
                    };
                    from_users[slot].1.push(user_index);
                    declared.insert(name, slot);
                }
                None if name.eq_ignore_ascii_case(umapi_core::protocol::ORG_ADMIN_GROUP) => {} // reported per file
                None if !complete => {}
                None => refs_found.push(undeclared(location(), name, names, None)),
            }
        }
        if let Some((settings, patterns)) = &settings {
            check_against_settings(settings, patterns, source, index, user, &mut settings_found);
        }
    }
    (from_users, refs_found, settings_found)
}

/// Where entry `position` of the list `key` of item `index` of the top-level list
/// `list` was written (a deep position: parsed again from the file when asked).
fn entry_location(
    source: &Source<'_>,
    list: &str,
    index: usize,
    key: &str,
    position: usize,
) -> Location {
    source.location(&[
        Step::Key(list),
        Step::Index(index),
        Step::Key(key),
        Step::Index(position),
    ])
}

fn undeclared(
    location: Location,
    name: &str,
    names: &BTreeMap<String, Declared>,
    only: Option<Kind>,
) -> Diagnostic {
    let candidates = names
        .values()
        .filter(|declared| only.is_none_or(|kind| declared.kind == kind))
        .map(|declared| declared.name.as_str());
    let (what, list) = match only {
        Some(kind) => (
            kind.noun().trim_start_matches("a ").to_owned(),
            format!("`{}:`", kind.list()),
        ),
        None => (
            "user group, product profile or admin group".to_owned(),
            "`groups:`, `profiles:` or `admin_groups:`".to_owned(),
        ),
    };
    let hint = yaml::did_you_mean(name, candidates).unwrap_or_else(|| {
        format!("declare it under {list} in a state file; umapi only manages what is declared")
    });
    problem(
        location,
        format!("`{name}` is not a declared {what}"),
        Some(&hint),
    )
}

fn unknown_user(location: Location, member: &str, identities: &[String]) -> Diagnostic {
    // In a large org, only addresses in the same domain are candidates: comparing
    // against every user for each unknown member would be slow.
    let domain = member
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_lowercase());
    let everyone = identities.len() <= 10_000;
    let candidates = identities
        .iter()
        .filter(|identity| {
            everyone || identity.rsplit_once('@').map(|(_, d)| d.to_owned()) == domain
        })
        .map(String::as_str);
    let hint = yaml::did_you_mean(member, candidates)
        .unwrap_or_else(|| "declare the user under `users:` in a state file".to_owned());
    problem(
        location,
        format!("`{member}` is not a declared user"),
        Some(&hint),
    )
}

/// The exclusions' user patterns that compile (broken ones are reported with the
/// settings), with the patterns as written.
fn exclusion_patterns(settings: &Settings) -> Vec<(String, regex::Regex)> {
    settings
        .exclude
        .users
        .iter()
        .filter_map(|pattern| {
            user_pattern(pattern)
                .ok()
                .map(|regex| (pattern.clone(), regex))
        })
        .collect()
}

/// The problems of one user under the settings' defaults and exclusions.
fn check_against_settings(
    settings: &Settings,
    patterns: &[(String, regex::Regex)],
    source: &Source<'_>,
    index: usize,
    user: &UserSpec,
    found: &mut Vec<Diagnostic>,
) {
    // Positions are made only for problems: each costs an allocation.
    let here = || source.location(&[Step::Key("users"), Step::Index(index)]);
    let at = |key: &'static str| {
        source.location(&[Step::Key("users"), Step::Index(index), Step::Key(key)])
    };
    let identity_type = user
        .identity_type
        .or(settings.default_type)
        .unwrap_or(IdentityType::FederatedId);
    if identity_type != IdentityType::FederatedId
        && (user.username.is_some() || user.domain.is_some())
    {
        let key = if user.username.is_some() {
            "username"
        } else {
            "domain"
        };
        let source_of_type = if user.identity_type.is_some() {
            "its `type`"
        } else {
            "`settings.default_type`"
        };
        found.push(problem(
            at(key),
            format!(
                "`username` and `domain` are for federatedID users, but this user is an {identity_type} ({source_of_type})"
            ),
            Some("remove `username` and `domain`, or set `type: federatedID`"),
        ));
    }
    let has_identity = user.email.is_some() || user.username.is_some();
    if has_identity
        && identity_type == IdentityType::FederatedId
        && user.country.is_none()
        && settings.default_country.is_none()
    {
        found.push(problem(
            here(),
            format!(
                "federatedID user `{}` has no `country`, which UMAPI needs to create the user",
                user.display_identity()
            ),
            Some("add `country: US` (two upper-case letters), or set `settings.default_country`"),
        ));
    }
    for (pattern, regex) in patterns {
        let matched = [&user.email, &user.username]
            .into_iter()
            .flatten()
            .any(|identity| regex.is_match(identity));
        if matched {
            found.push(problem(
                here(),
                format!(
                    "user `{}` is declared but excluded by the pattern `{pattern}` in `settings.exclude.users`",
                    user.display_identity()
                ),
                Some("excluded users are never touched: remove the user here, or change the exclusion"),
            ));
        }
    }
    if settings.exclude.types.contains(&identity_type) {
        found.push(problem(
            here(),
            format!(
                "user `{}` is declared but {identity_type} users are excluded in `settings.exclude.types`",
                user.display_identity()
            ),
            Some("excluded users are never touched: remove the user here, or change the exclusion"),
        ));
    }
}

fn check_excluded_groups(
    settings: &Settings,
    names: &BTreeMap<String, Declared>,
    found: &mut Vec<Diagnostic>,
) {
    for excluded in &settings.exclude.groups {
        if let Some(declared) = names.get(&excluded.to_lowercase()) {
            found.push(problem(
                declared.location.clone(),
                format!(
                    "`{}` is declared but excluded in `settings.exclude.groups`",
                    declared.name
                ),
                Some("excluded groups and their members are never touched: remove one of the two"),
            ));
        }
    }
}
