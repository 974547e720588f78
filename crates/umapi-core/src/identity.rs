//! How UMAPI identifies a user: by email, or by username and domain when the username is
//! not an email address. [`UserKey`] is that identity, normalised once (Unicode NFC, then
//! lower case) so that two spellings of one address are one user everywhere: in
//! snapshots, plans and the sandbox's lookups.
//!
//! A Federated ID may have a username that looks like an email but differs from its
//! email; UMAPI never identifies a user by such a username, so neither does `UserKey`.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
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

/// Normalised as [`normalize`] does, without allocating when `value` is lower-case
/// ASCII already (most emails and usernames are): keying a large org needs one key per
/// user.
pub fn normalized(value: &str) -> Cow<'_, str> {
    if value.is_ascii() && !value.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(normalize(value))
    }
}

/// One user's identity, normalised.
///
/// Its text form (`Display`, and serde as a string) is the email, or
/// `username (domain)` for a key by username; [`UserKey::parse`] reads it back. A key
/// by username never has an `@` before its ` (`, which tells the two forms apart.
///
/// A `UserKey` derefs to a [`UserKeyRef`] and borrows as one, so maps keyed by
/// `UserKey` can be searched with a key borrowed from a record, without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey(UserKeyRef<'static>);

/// A [`UserKey`] that borrows its text where it is normal already: built per user on
/// hot paths (matching a large org), turned into a `UserKey` with
/// [`UserKeyRef::into_owned`] only when kept. Equal, hashed and ordered as the
/// `UserKey` with the same text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKeyRef<'a>(Key<'a>);

// A key by username is boxed: such keys are rare, and the box keeps a key the size
// of the one string it holds for the usual key by email (large orgs keep millions of
// them in look-up maps). Ordering, equality and hashing look through the box.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key<'a> {
    Email(Cow<'a, str>),
    Username(Box<UsernameKey<'a>>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct UsernameKey<'a> {
    username: Cow<'a, str>,
    domain: Cow<'a, str>,
}

impl<'a> UserKeyRef<'a> {
    /// A user identified by email.
    pub fn email(email: &'a str) -> UserKeyRef<'a> {
        UserKeyRef(Key::Email(normalized(email)))
    }

    /// A user identified by a username that is not an email, within `domain`. An
    /// email-shaped `username` gives the key of that email instead, as UMAPI reads it
    /// (the `domain` is then ignored).
    pub fn username(username: &'a str, domain: &'a str) -> UserKeyRef<'a> {
        if is_email_shaped(username) {
            return UserKeyRef::email(username);
        }
        UserKeyRef(Key::Username(Box::new(UsernameKey {
            username: normalized(username),
            domain: normalized(domain),
        })))
    }

    /// See [`UserKey::of`].
    pub fn of(
        email: Option<&'a str>,
        username: Option<&'a str>,
        domain: Option<&'a str>,
    ) -> Option<UserKeyRef<'a>> {
        match (username, domain) {
            (Some(u), Some(d)) if !u.is_empty() && !is_email_shaped(u) => {
                Some(UserKeyRef::username(u, d))
            }
            _ => email.filter(|e| !e.is_empty()).map(UserKeyRef::email),
        }
    }

    /// The keys UMAPI identifies a user with these fields by: its email (an
    /// email-shaped username stands for it only when there is no email), and its
    /// username and domain when the username is not an email. An email-shaped
    /// username that differs from the email identifies no one.
    pub fn aliases(
        email: Option<&'a str>,
        username: Option<&'a str>,
        domain: Option<&'a str>,
    ) -> [Option<UserKeyRef<'a>>; 2] {
        let username = username.filter(|u| !u.is_empty());
        let by_email = email
            .filter(|e| !e.is_empty())
            .or(username.filter(|u| is_email_shaped(u)))
            .map(UserKeyRef::email);
        let by_username = username
            .filter(|u| !is_email_shaped(u))
            .map(|u| UserKeyRef::username(u, domain.unwrap_or_default()));
        [by_email, by_username]
    }

    /// A number that orders keys as they order themselves wherever the numbers
    /// differ: the kind of key, then the first 15 bytes of its first text. Equal
    /// numbers say nothing. Sorting a million keys compares these in place before
    /// following any key's text.
    pub fn order_prefix(&self) -> u128 {
        let (kind, text) = match &self.0 {
            Key::Email(email) => (0u8, email.as_bytes()),
            Key::Username(key) => (1u8, key.username.as_bytes()),
        };
        let mut bytes = [0u8; 16];
        bytes[0] = kind;
        let taken = text.len().min(15);
        bytes[1..=taken].copy_from_slice(&text[..taken]);
        u128::from_be_bytes(bytes)
    }

    /// The key a user reference written as an email or as `username (domain)` names
    /// (the text form of a key); `None` for anything else, such as a bare username,
    /// which names a user only among the users known.
    pub fn from_reference(text: &'a str) -> Option<UserKeyRef<'a>> {
        match split_username(text) {
            Some((username, domain)) => Some(UserKeyRef::username(username, domain)),
            None if is_email_shaped(text) => Some(UserKeyRef::email(text)),
            None => None,
        }
    }

    /// The key that owns its text.
    pub fn into_owned(self) -> UserKey {
        let owned = |text: Cow<'a, str>| -> Cow<'static, str> { Cow::Owned(text.into_owned()) };
        UserKey(UserKeyRef(match self.0 {
            Key::Email(email) => Key::Email(owned(email)),
            Key::Username(key) => Key::Username(Box::new(UsernameKey {
                username: owned(key.username),
                domain: owned(key.domain),
            })),
        }))
    }

    /// The normalised email, for a key by email.
    pub fn as_email(&self) -> Option<&str> {
        match &self.0 {
            Key::Email(e) => Some(e),
            Key::Username(_) => None,
        }
    }

    /// The normalised username and domain, for a key by username.
    pub fn as_username(&self) -> Option<(&str, &str)> {
        match &self.0 {
            Key::Email(_) => None,
            Key::Username(key) => Some((&key.username, &key.domain)),
        }
    }

    /// The `user` and `domain` of an action entry naming this user.
    pub fn to_request(&self) -> (&str, Option<&str>) {
        match &self.0 {
            Key::Email(e) => (e, None),
            Key::Username(key) => (&key.username, Some(&key.domain)),
        }
    }
}

/// `username (domain)` as the text form of a key by username writes it: a username
/// that is not an email, then ` (`, the domain and `)`.
fn split_username(text: &str) -> Option<(&str, &str)> {
    let (username, domain) = text.strip_suffix(')')?.rsplit_once(" (")?;
    (!username.is_empty() && !is_email_shaped(username)).then_some((username, domain))
}

impl UserKey {
    /// A user identified by email.
    pub fn email(email: &str) -> UserKey {
        UserKeyRef::email(email).into_owned()
    }

    /// A user identified by a username that is not an email, within `domain`. An
    /// email-shaped `username` gives the key of that email instead, as UMAPI reads it
    /// (the `domain` is then ignored).
    pub fn username(username: &str, domain: &str) -> UserKey {
        UserKeyRef::username(username, domain).into_owned()
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
        UserKeyRef::of(email, username, domain).map(UserKeyRef::into_owned)
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

    /// Reads the text form back: `username (domain)` (a username without `@`) is a
    /// key by username, any other text a key by email. `parse(&key.to_string())` is
    /// `key` for every key of an email or of a username and domain.
    pub fn parse(text: &str) -> UserKey {
        match split_username(text) {
            Some((username, domain)) => UserKey::username(username, domain),
            None => UserKey::email(text),
        }
    }
}

impl std::ops::Deref for UserKey {
    type Target = UserKeyRef<'static>;

    fn deref(&self) -> &UserKeyRef<'static> {
        &self.0
    }
}

/// Lets a map keyed by [`UserKey`] be searched with a borrowed [`UserKeyRef`]: both
/// hash and compare their text alike.
impl<'a> std::borrow::Borrow<UserKeyRef<'a>> for UserKey {
    fn borrow(&self) -> &UserKeyRef<'a> {
        &self.0
    }
}

impl From<UserKeyRef<'_>> for UserKey {
    fn from(key: UserKeyRef<'_>) -> UserKey {
        key.into_owned()
    }
}

/// The text form: the email, or `username (domain)`.
impl std::fmt::Display for UserKeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Key::Email(e) => f.write_str(e),
            Key::Username(key) => write!(f, "{} ({})", key.username, key.domain),
        }
    }
}

/// The text form: the email, or `username (domain)`.
impl std::fmt::Display for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// As its text form, a string.
impl Serialize for UserKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From its text form (see [`UserKey::parse`]), normalised again.
impl<'de> Deserialize<'de> for UserKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(UserKey::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_costs_no_more_than_the_string_it_holds() {
        // Planning a large org keeps a key per user in several look-up maps.
        assert_eq!(size_of::<UserKey>(), size_of::<String>());
        assert_eq!(size_of::<UserKeyRef<'_>>(), size_of::<String>());
    }

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

    #[test]
    fn a_borrowed_key_finds_the_owned_one() {
        use std::collections::{BTreeMap, HashMap};
        let owned = UserKey::username("JDoe", "Example.com");
        let borrowed = UserKeyRef::username("jdoe", "example.com");
        assert_eq!(borrowed.as_username(), Some(("jdoe", "example.com")));
        assert_eq!(*owned, borrowed);
        let mut hashed = HashMap::new();
        hashed.insert(owned.clone(), 1);
        assert_eq!(hashed.get(&borrowed), Some(&1));
        assert_eq!(hashed.get(&UserKeyRef::email("jdoe@example.com")), None);
        let ordered = BTreeMap::from([(owned, 2)]);
        assert_eq!(ordered.get(&borrowed), Some(&2));
    }

    #[test]
    fn a_normal_identifier_is_borrowed_not_copied() {
        assert!(matches!(normalized("ada@example.com"), Cow::Borrowed(_)));
        assert_eq!(normalized("Ada@Example.com"), "ada@example.com");
        assert!(matches!(normalized("ren\u{e9}@x.com"), Cow::Owned(_)));
    }

    #[test]
    fn references_name_keys_only_as_emails_or_username_and_domain() {
        assert_eq!(
            UserKeyRef::from_reference("JDoe (Example.com)").map(UserKeyRef::into_owned),
            Some(UserKey::username("jdoe", "example.com"))
        );
        assert_eq!(
            UserKeyRef::from_reference("Ada@Example.com").map(UserKeyRef::into_owned),
            Some(UserKey::email("ada@example.com"))
        );
        // A bare username names no key: the domain is missing.
        assert_eq!(UserKeyRef::from_reference("jdoe"), None);
        // An email with a comment-like tail is still an email.
        assert_eq!(
            UserKey::parse("a@b.com (x)").as_email(),
            Some("a@b.com (x)")
        );
    }

    #[test]
    fn the_json_form_is_the_text_form() {
        let keys = [
            UserKey::email("Ada@Example.com"),
            UserKey::username("JDoe", "Example.com"),
        ];
        let json = serde_json::to_string(&keys).unwrap();
        assert_eq!(json, r#"["ada@example.com","jdoe (example.com)"]"#);
        let back: Vec<UserKey> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, keys);
        // Read back normalised, whatever the spelling in the file.
        let spelled: UserKey = serde_json::from_str(r#""JDoe (EXAMPLE.com)""#).unwrap();
        assert_eq!(spelled, keys[1]);
    }

    /// Emails and usernames as UMAPI holds them: letters (some accented, some upper
    /// case), digits and the punctuation addresses use.
    fn identifier() -> impl proptest::strategy::Strategy<Value = String> {
        "[a-zA-Z0-9\u{e9}\u{c9}._+-]{1,12}"
    }

    proptest::proptest! {
        #[test]
        fn every_key_reads_back_from_its_text_form(
            local in identifier(),
            domain in "[a-zA-Z0-9\u{e9}-]{1,8}\\.[a-z]{2,3}",
            by_username in proptest::bool::ANY,
        ) {
            let key = if by_username {
                UserKey::username(&local, &domain)
            } else {
                UserKey::email(&format!("{local}@{domain}"))
            };
            let text = key.to_string();
            proptest::prop_assert_eq!(UserKey::parse(&text), key.clone());
            let json = serde_json::to_string(&key).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<UserKey>(&json).unwrap(), key.clone());
            proptest::prop_assert_eq!(
                UserKeyRef::from_reference(&text).map(UserKeyRef::into_owned),
                Some(key)
            );
        }

        #[test]
        fn order_prefixes_never_contradict_the_keys_order(
            shared in "[a-z\u{e9}\u{0}.]{0,16}",
            a in identifier(),
            b in identifier(),
            a_by_username in proptest::bool::ANY,
            b_by_username in proptest::bool::ANY,
        ) {
            // Long shared beginnings, accents (two bytes each) and NUL bytes put the
            // difference before, at and after the prefix's last byte.
            let key = |text: &str, by_username: bool| if by_username {
                UserKey::username(&format!("{shared}{text}"), "x.com")
            } else {
                UserKey::email(&format!("{shared}{text}@x.com"))
            };
            let (a, b) = (key(&a, a_by_username), key(&b, b_by_username));
            let by_prefix = a.order_prefix().cmp(&b.order_prefix());
            if by_prefix != std::cmp::Ordering::Equal {
                proptest::prop_assert_eq!(by_prefix, a.cmp(&b));
            }
        }

        #[test]
        fn borrowed_and_owned_keys_agree(
            email in identifier(),
            username in identifier(),
            domain in identifier(),
            email_shaped in proptest::bool::ANY,
        ) {
            use std::hash::{BuildHasher, RandomState};
            let email = format!("{email}@x.com");
            let username = if email_shaped { format!("{username}@y.com") } else { username };
            let hasher = RandomState::new();
            for (borrowed, owned) in UserKeyRef::aliases(Some(&email), Some(&username), Some(&domain))
                .into_iter()
                .flatten()
                .zip(UserKey::all_of(&email, &username, &domain))
            {
                proptest::prop_assert_eq!(&borrowed, &*owned);
                proptest::prop_assert_eq!(hasher.hash_one(&borrowed), hasher.hash_one(&owned));
                proptest::prop_assert_eq!(borrowed.to_string(), owned.to_string());
            }
            // An email-shaped username is never a key of its own.
            proptest::prop_assert_eq!(
                UserKey::all_of(&email, &username, &domain).len(),
                if email_shaped { 1 } else { 2 }
            );
        }
    }
}
