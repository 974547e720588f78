//! The planner's currency: each decided change, with the phase that carries it and
//! how requests address what it touches. Deciding produces the list, safety limits
//! count it, packing turns it into requests, and the plan shows its [`ChangeKind`]s.

use crate::plan::{ChangeKind, PhaseName};

/// One decided change.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    /// What the plan shows.
    pub kind: ChangeKind,
    /// The phase whose requests carry it.
    pub phase: PhaseName,
    /// How requests name the user or group it touches when its phase runs.
    pub address: Address,
}

/// How requests name what a change touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    /// A user group, by its name in the org when the change's phase runs: the
    /// current name for a rename (and the description that rides on it), the
    /// declared name otherwise.
    Group {
        /// The entry's `usergroup`.
        name: String,
    },
    /// A user, named as the org knows them when the change's phase runs.
    User {
        /// The entry's `user`, `domain` and `useAdobeID`.
        target: UserTarget,
    },
}

/// How requests name a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UserTarget {
    /// The entry's `user`.
    pub user: String,
    /// The entry's `domain`, for usernames that are not emails.
    pub domain: Option<String>,
    /// Lower-cased `user`, for ordering.
    pub key: String,
    /// An Adobe ID that shares its email with an org-owned account: entries say
    /// `useAdobeID`, or UMAPI would pick the other account.
    pub use_adobe_id: bool,
    /// For a username that is not an email: the user's email, when no other account
    /// of the org answers to it. Group member lists name users by email (they carry
    /// no domain), so this lets such a user join a group entry instead of needing
    /// an entry of its own.
    pub list_email: Option<String>,
}

impl UserTarget {
    pub(crate) fn new(user: String, domain: Option<String>) -> Self {
        let key = user.to_lowercase();
        UserTarget {
            user,
            domain,
            key,
            use_adobe_id: false,
            list_email: None,
        }
    }

    /// The name for a group's `add {"user": […]}` list: only users that a bare name
    /// identifies (no `useAdobeID`; for usernames that need a domain, the email).
    pub(crate) fn list_name(&self) -> Option<&str> {
        if self.use_adobe_id {
            None
        } else if self.domain.is_none() {
            Some(&self.user)
        } else {
            self.list_email.as_deref()
        }
    }

    pub(crate) fn display(&self) -> String {
        let name = crate::current::display_target(&self.user, self.domain.as_deref());
        if self.use_adobe_id {
            format!("{name} (Adobe ID)")
        } else {
            name
        }
    }
}

/// The change list as deciding builds it: ids are positions.
#[derive(Debug, Default)]
pub(crate) struct ChangeList(pub Vec<Decided>);

impl ChangeList {
    /// Appends a change addressed to a group.
    pub(crate) fn group(&mut self, kind: ChangeKind, phase: PhaseName, name: &str) {
        self.0.push(Decided {
            kind,
            phase,
            address: Address::Group {
                name: name.to_string(),
            },
        });
    }

    /// Appends a change addressed to a user.
    pub(crate) fn user(&mut self, kind: ChangeKind, phase: PhaseName, target: &UserTarget) {
        self.0.push(Decided {
            kind,
            phase,
            address: Address::User {
                target: target.clone(),
            },
        });
    }
}
