//! `umapi why USER` as text: the user's entry, each membership with the lines
//! that give it, and with the org, what it has now and what a plan would change.

use std::fmt::Write as _;

use super::apply_summary::describe;
use crate::desired::UnlistedUsers;
use crate::plan::Change;
use crate::why::{Until, Why};

/// `until 2026-01-31 (state/users.yaml:9): passed, the next plan removes it`.
fn until_text(until: &Until) -> String {
    let mut text = format!("until {}", until.day);
    if let Some(source) = &until.source {
        let _ = write!(text, " ({source})");
    }
    if until.passed {
        text.push_str(": passed, the next plan removes it");
    }
    text
}

/// A change with the lines behind it: `add kim@example.com to user group Design  # state/users.yaml:14`.
fn change_line(change: &Change) -> String {
    let mut line = describe(change);
    let mut why = Vec::new();
    if let Some(until) = &change.until {
        why.push(format!("until {until} passed"));
    }
    why.extend(change.sources.iter().cloned());
    if !why.is_empty() {
        let _ = write!(line, "  # {}", why.join(", "));
    }
    line
}

/// Renders an explanation as text.
pub fn why_text(why: &Why) -> String {
    let mut out = String::new();
    match (&why.declared, &why.undeclared) {
        (Some(user), _) => {
            let _ = writeln!(
                out,
                "{} ({}) is declared at {}",
                user.user, user.identity_type, user.source
            );
            if let Some(previously) = &user.previously {
                let _ = writeln!(
                    out,
                    "  asked for as `{previously}`, an earlier name (previously:) of this user"
                );
            }
            if let Some(until) = &user.until {
                let _ = writeln!(out, "  in the org {}", until_text(until));
            }
            out.push('\n');
            if user.memberships.is_empty() {
                let _ = writeln!(out, "No memberships in the state files.");
            } else {
                let _ = writeln!(out, "Memberships in the state files:");
            }
            for membership in &user.memberships {
                let _ = writeln!(
                    out,
                    "  {} {:?}",
                    membership.group_kind.label(),
                    membership.group
                );
                for source in &membership.sources {
                    let _ = writeln!(out, "      declared at {source}");
                }
                if let Some(until) = &membership.until {
                    let _ = writeln!(out, "      {}", until_text(until));
                }
                for through in &membership.through {
                    let mut line = format!("      through user group {:?}", through.group);
                    if let Some(source) = &through.group_source {
                        let _ = write!(line, " (declared at {source})");
                    }
                    if let Some(link) = &through.link {
                        let _ = write!(line, ", linked at {link}");
                    }
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        (None, Some(undeclared)) => {
            let _ = writeln!(out, "{} is not declared in the state files.", why.asked);
            let setting = match &undeclared.setting {
                Some(source) => format!("set at {source}"),
                None => "the default".to_owned(),
            };
            let effect = match undeclared.unlisted_users {
                UnlistedUsers::Ignore => "a plan leaves such a user alone",
                UnlistedUsers::RemoveMemberships => {
                    "a plan removes such a user from every managed group and profile"
                }
                UnlistedUsers::Remove => "a plan removes such a user from the org",
                UnlistedUsers::Delete => {
                    "a plan removes such a user from the org and deletes the account"
                }
            };
            let value = serde_json::to_value(undeclared.unlisted_users)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = writeln!(out, "  unlisted_users: {value} ({setting}): {effect}.");
            if let Some(close) = &undeclared.did_you_mean {
                let _ = writeln!(out, "  did you mean {close}?");
            }
        }
        (None, None) => {}
    }
    if let Some(org) = &why.org {
        out.push('\n');
        match &org.current {
            Some(current) => {
                let name = current
                    .email
                    .as_deref()
                    .or(current.username.as_deref())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "In the org: {name} ({}), member of {}.",
                    current.identity_type,
                    if current.groups.is_empty() {
                        "nothing".to_owned()
                    } else {
                        current
                            .groups
                            .iter()
                            .map(|group| format!("{group:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
            None => {
                let _ = writeln!(out, "In the org: no such user.");
            }
        }
        if org.changes.iter().any(|change| change.kind.is_counted()) {
            let _ = writeln!(out, "What a plan would change for this user:");
            for change in org.changes.iter().filter(|change| change.kind.is_counted()) {
                let _ = writeln!(out, "  {}", change_line(change));
            }
        } else {
            let _ = writeln!(out, "A plan would change nothing for this user.");
        }
    }
    out
}
