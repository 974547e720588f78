//! Access that ends: `until` on a user or on one of its memberships.
//!
//! A user or membership whose `until` day has passed (in UTC) is no longer part of
//! the desired state, so the plan removes it; one that ends soon is listed in every
//! plan. The day is always given by the caller, so tests can fix it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::desired::{DesiredState, UserSpec};
use umapi_core::identity::{UserKey, UserKeyRef};

/// Days ahead that plans list expiries for, unless told otherwise.
pub const DEFAULT_EXPIRING_DAYS: u32 = 14;

/// The day written as `YYYY-MM-DD`, when it is one (`2026-02-30` is not).
pub fn parse_day(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    text.parse().ok()
}

/// The `until` day of a user or membership, parsed (loading has checked it).
fn day(until: Option<&str>) -> Option<Date> {
    until.and_then(parse_day)
}

/// Whether access that lasts `until` is over on `today`: it ends after that day.
fn is_over(until: Date, today: Date) -> bool {
    until < today
}

/// A user or membership that ends soon, as listed in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiring {
    /// The user, as written.
    pub user: String,
    /// The group, profile or admin group; none when the user itself leaves the org.
    pub group: Option<String>,
    /// The last day of access (`YYYY-MM-DD`, UTC).
    pub until: String,
    /// Days from the plan's day to the last day: 0 when today is the last day.
    pub days_left: i32,
}

impl std::fmt::Display for Expiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let left = match self.days_left {
            0 => "today is the last day".to_owned(),
            1 => "1 day left".to_owned(),
            days => format!("{days} days left"),
        };
        match &self.group {
            Some(group) => write!(
                f,
                "{} leaves {group} after {} ({left})",
                self.user, self.until
            ),
            None => write!(
                f,
                "{} leaves the org after {} ({left})",
                self.user, self.until
            ),
        }
    }
}

/// Users and memberships whose last day is `today` or one of the next `within_days`
/// days, soonest first; none when `within_days` is 0.
pub fn expiring(desired: &DesiredState, today: Date, within_days: u32) -> Vec<Expiring> {
    if within_days == 0 {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut note = |user: &UserSpec, group: Option<&str>, until: Date| {
        let days_left = (until - today).get_days();
        if !is_over(until, today) && days_left <= within_days as i32 {
            found.push(Expiring {
                user: user.display_identity(),
                group: group.map(str::to_owned),
                until: until.to_string(),
                days_left,
            });
        }
    };
    for user in &desired.users {
        if let Some(until) = day(user.until.as_deref()) {
            note(user, None, until);
        }
        for membership in &user.groups {
            if let Some(until) = day(membership.until.as_deref()) {
                note(user, Some(&membership.name), until);
            }
        }
    }
    found.sort_by(|a, b| (a.days_left, &a.user, &a.group).cmp(&(b.days_left, &b.user, &b.group)));
    found
}

/// The desired state on `today`: memberships and users whose `until` has passed
/// are taken out, the users into [`DesiredState::expired_users`]. `None` when
/// nothing has expired (the state holds as loaded).
pub fn expire(desired: &DesiredState, today: Date) -> Option<DesiredState> {
    let over = |until: Option<&str>| day(until).is_some_and(|until| is_over(until, today));
    let any = desired.users.iter().any(|user| {
        over(user.until.as_deref())
            || user
                .groups
                .iter()
                .any(|membership| over(membership.until.as_deref()))
    });
    if !any {
        return None;
    }
    let mut state = desired.clone();
    state.reindex();
    // An expired user named in a group's `members:` is no member either.
    let ended: std::collections::HashSet<usize> = (state.users.iter().enumerate())
        .filter(|(_, user)| over(user.until.as_deref()))
        .map(|(index, _)| index)
        .collect();
    if !ended.is_empty() {
        let named_ended = |member: &String| {
            state
                .user_index(member)
                .is_some_and(|index| ended.contains(&index))
        };
        let lists: Vec<Vec<String>> = state
            .groups
            .iter()
            .map(|group| &group.members)
            .chain(state.profiles.iter().map(|profile| &profile.members))
            .chain(state.admin_groups.iter().map(|admin| &admin.members))
            .map(|members| {
                members
                    .iter()
                    .filter(|m| !named_ended(m))
                    .cloned()
                    .collect()
            })
            .collect();
        let mut lists = lists.into_iter();
        for members in state
            .groups
            .iter_mut()
            .map(|group| &mut group.members)
            .chain(
                state
                    .profiles
                    .iter_mut()
                    .map(|profile| &mut profile.members),
            )
            .chain(
                state
                    .admin_groups
                    .iter_mut()
                    .map(|admin| &mut admin.members),
            )
        {
            *members = lists.next().unwrap_or_default();
        }
    }
    let (expired, kept): (Vec<UserSpec>, Vec<UserSpec>) = std::mem::take(&mut state.users)
        .into_iter()
        .partition(|user| over(user.until.as_deref()));
    state.users = kept;
    for user in &mut state.users {
        user.groups
            .retain(|membership| !over(membership.until.as_deref()));
    }
    state.expired_users = expired;
    state.reindex();
    Some(state)
}

/// The keys by which an org user is recognised as one of the expired users: its
/// email, and its username with its domain ([`UserKey::username`]).
pub(crate) fn expired_keys(desired: &DesiredState) -> std::collections::HashSet<UserKey> {
    desired
        .expired_users
        .iter()
        .flat_map(|user| user.identities().map(UserKeyRef::into_owned))
        .collect()
}

/// Whether the org user with these identifiers is one of the expired users
/// (`keys` from [`expired_keys`]).
pub(crate) fn is_expired_user(
    keys: &std::collections::HashSet<UserKey>,
    email: Option<&str>,
    username: Option<&str>,
    domain: Option<&str>,
) -> bool {
    !keys.is_empty()
        && (email
            .filter(|email| !email.is_empty())
            .is_some_and(|email| keys.contains(&UserKeyRef::email(email)))
            || username
                .filter(|username| !username.is_empty())
                .is_some_and(|username| {
                    keys.contains(&UserKeyRef::username(username, domain.unwrap_or_default()))
                }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_days_in_the_written_form_are_days() {
        assert_eq!(
            parse_day("2026-12-31"),
            Some(jiff::civil::date(2026, 12, 31))
        );
        for wrong in [
            "2026-02-30",
            "2026-1-31",
            "31/12/2026",
            "2026-12-31T00:00",
            "+02026-12-3",
            "",
        ] {
            assert_eq!(parse_day(wrong), None, "{wrong}");
        }
    }
}
