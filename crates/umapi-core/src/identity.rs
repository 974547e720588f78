//! How UMAPI identifies a user: by email, or by username and domain when the username is
//! not an email address. [`UserKey`] is that identity, normalised once (Unicode NFC, then
//! lower case) so that two spellings of one address are one user everywhere: in
//! snapshots, plans and the sandbox's lookups.
//!
//! A Federated ID may have a username that looks like an email but differs from its
//! email; UMAPI never identifies a user by such a username, so neither does `UserKey`.

use unicode_normalization::UnicodeNormalization;

use crate::protocol::is_email_shaped;
use crate::wire;

/// The normal form of an email, username or domain: Unicode NFC, then lower case, then
/// NFC again (lower-casing can decompose), so that `É` and `E\u{301}` compare equal and
/// case does not matter.
pub fn normalize(value: &str) -> String {
    let composed: String = value.nfc().collect();
    let lower = composed.to_lowercase();
    if lower.is_ascii() {
        lower
    } else {
        lower.nfc().collect()
    }
}

/// Whether two emails, usernames or domains are the same once normalised.
pub fn same_identifier(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        normalize(a) == normalize(b)
    }
}

/// One user's identity, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey(Key);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Email(String),
    Username { username: String, domain: String },
}

impl UserKey {
    /// A user identified by email.
    pub fn email(email: &str) -> UserKey {
        UserKey(Key::Email(normalize(email)))
    }

    /// A user identified by a username that is not an email, within `domain`. An
    /// email-shaped `username` gives the key of that email instead, as UMAPI reads it
    /// (the `domain` is then ignored).
    pub fn username(username: &str, domain: &str) -> UserKey {
        if is_email_shaped(username) {
            return UserKey::email(username);
        }
        UserKey(Key::Username {
            username: normalize(username),
            domain: normalize(domain),
        })
    }

    /// The key of the `user` (and `domain`) of an action entry or a user lookup, as UMAPI
    /// reads them: an email-shaped `user` is an email; any other `user` is a username,
    /// which needs a domain (`None` without one).
    pub fn from_request(user: &str, domain: Option<&str>) -> Option<UserKey> {
        if is_email_shaped(user) {
            Some(UserKey::email(user))
        } else {
            domain.map(|d| UserKey::username(user, d))
        }
    }

    /// The key a user record answers to first: its username and domain when the username
    /// is not an email, else its email. `None` when neither is known.
    pub fn of(
        email: Option<&str>,
        username: Option<&str>,
        domain: Option<&str>,
    ) -> Option<UserKey> {
        match (username, domain) {
            (Some(u), Some(d)) if !u.is_empty() && !is_email_shaped(u) => {
                Some(UserKey::username(u, d))
            }
            _ => email.filter(|e| !e.is_empty()).map(UserKey::email),
        }
    }

    /// The key of a user as the user queries return it (see [`UserKey::of`]).
    pub fn from_wire(user: &wire::User) -> Option<UserKey> {
        UserKey::of(
            user.email.as_deref(),
            user.username.as_deref(),
            user.domain.as_deref(),
        )
    }

    /// Every key that identifies a user with these fields in a request: its email, and its
    /// username and domain when the username is not an email.
    pub fn all_of(email: &str, username: &str, domain: &str) -> Vec<UserKey> {
        let mut keys = vec![UserKey::email(email)];
        if !username.is_empty() && !is_email_shaped(username) {
            keys.push(UserKey::username(username, domain));
        }
        keys
    }

    /// The normalised email, for a key by email.
    pub fn as_email(&self) -> Option<&str> {
        match &self.0 {
            Key::Email(e) => Some(e),
            Key::Username { .. } => None,
        }
    }

    /// The normalised username and domain, for a key by username.
    pub fn as_username(&self) -> Option<(&str, &str)> {
        match &self.0 {
            Key::Email(_) => None,
            Key::Username { username, domain } => Some((username, domain)),
        }
    }

    /// The `user` and `domain` of an action entry naming this user.
    pub fn to_request(&self) -> (&str, Option<&str>) {
        match &self.0 {
            Key::Email(e) => (e, None),
            Key::Username { username, domain } => (username, Some(domain)),
        }
    }
}

/// The display form: the email, or `username (domain)`.
impl std::fmt::Display for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Key::Email(e) => f.write_str(e),
            Key::Username { username, domain } => write!(f, "{username} ({domain})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_differing_in_case_or_normal_form_are_one_user() {
        let composed = "Ren\u{e9}@Example.com";
        let decomposed = "rene\u{301}@example.COM";
        assert_ne!(composed, decomposed);
        assert_eq!(UserKey::email(composed), UserKey::email(decomposed));
        assert_eq!(
            UserKey::email(composed).to_string(),
            "ren\u{e9}@example.com"
        );
        assert!(same_identifier(composed, decomposed));
        assert!(!same_identifier(composed, "rene@example.com"));
    }

    #[test]
    fn a_username_that_is_not_an_email_needs_its_domain() {
        // ActionsCmds.md: "Federated IDs that are not email addresses, must supply the
        // domain the user belongs to in order to identify the user."
        assert_eq!(UserKey::from_request("jdoe", None), None);
        let key = UserKey::from_request("JDoe", Some("Example.com")).unwrap();
        assert_eq!(key.as_username(), Some(("jdoe", "example.com")));
        assert_eq!(key.to_string(), "jdoe (example.com)");
        assert_eq!(key.to_request(), ("jdoe", Some("example.com")));
        assert_ne!(key, UserKey::username("jdoe", "other.example"));
    }

    #[test]
    fn an_email_shaped_user_is_always_an_email() {
        // ActionsCmds.md: "The `username` value can also be an email address, but you
        // can never use it to identify a user in requests."
        let key = UserKey::from_request("k.lee@example.com", Some("example.com")).unwrap();
        assert_eq!(key.as_email(), Some("k.lee@example.com"));
        assert_eq!(UserKey::username("k.lee@example.com", "x"), key);
    }

    #[test]
    fn a_wire_user_is_keyed_by_username_only_when_it_is_not_an_email() {
        let user = |email: &str, username: &str| wire::User {
            email: Some(email.into()),
            username: Some(username.into()),
            domain: Some("example.com".into()),
            ..Default::default()
        };
        // A Federated ID whose username is another email: identified by its email.
        let kim = user("kim@example.com", "k.lee@example.com");
        assert_eq!(
            UserKey::from_wire(&kim),
            Some(UserKey::email("KIM@example.com"))
        );
        let jdoe = user("john.doe@example.com", "jdoe");
        assert_eq!(
            UserKey::from_wire(&jdoe),
            Some(UserKey::username("jdoe", "example.com"))
        );
        assert_eq!(
            UserKey::all_of("kim@example.com", "k.lee@example.com", "example.com"),
            vec![UserKey::email("kim@example.com")]
        );
        assert_eq!(
            UserKey::all_of("john.doe@example.com", "jdoe", "example.com"),
            vec![
                UserKey::email("john.doe@example.com"),
                UserKey::username("jdoe", "example.com")
            ]
        );
        assert_eq!(UserKey::from_wire(&wire::User::default()), None);
    }
}
