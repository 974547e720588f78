//! The vocabulary of the UMAPI protocol, shared by the client and the sandbox: the limits
//! of an action request, the rules emails, names and group names must follow, the
//! reserved group names and the names of Adobe's admin groups.
//!
//! Each rule is one function returning a [`Violation`] (what kind of rule was broken and
//! a message that names the value), so that the client can refuse a value before sending
//! it and the sandbox can answer it with the error code UMAPI uses.

use crate::wire::GroupType;

/// Most entries (users or user groups) in one action request.
pub const MAX_ENTRIES_PER_REQUEST: usize = 10;
/// Most steps in one entry.
pub const MAX_STEPS_PER_ENTRY: usize = 10;
/// Most names in one `add`/`remove` list.
pub const MAX_NAMES_PER_LIST: usize = 10;
/// Longest email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 60;
/// Longest first name, last name, user identifier or domain, in characters.
pub const MAX_NAME_CHARS: usize = 250;
/// Longest group or product profile name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 255;

/// The `result` of a groups page requested past the last one (with `lastPage: true`,
/// HTTP 200), as group.md shows it: `{"lastPage": true, "result": "Not found"}`.
pub const PAGE_NOT_FOUND_RESULT: &str = "Not found";

/// The system administrators group.
pub const ORG_ADMIN_GROUP: &str = "_org_admin";
/// The support administrators group.
pub const SUPPORT_ADMIN_GROUP: &str = "_support_admin";
/// The deployment administrators group.
pub const DEPLOYMENT_ADMIN_GROUP: &str = "_deployment_admin";
/// Groups whose membership can never be assigned or removed through the API.
pub const RESERVED_GROUP_NAMES: &[&str] = &[ORG_ADMIN_GROUP];
/// Prefix of the admin group of a user group or product profile (`_admin_<name>`).
pub const ADMIN_PREFIX: &str = "_admin_";
/// Prefix of the admin group of a product (`_product_admin_<product>`).
pub const PRODUCT_ADMIN_PREFIX: &str = "_product_admin_";
/// Prefix of the developer group of a product profile (`_developer_<profile>`).
pub const DEVELOPER_PREFIX: &str = "_developer_";
/// The names and name prefixes of Adobe's admin groups (besides [`ORG_ADMIN_GROUP`]).
pub const ADMIN_GROUP_PREFIXES: &[&str] = &[
    ADMIN_PREFIX,
    PRODUCT_ADMIN_PREFIX,
    DEVELOPER_PREFIX,
    SUPPORT_ADMIN_GROUP,
    DEPLOYMENT_ADMIN_GROUP,
];

/// What kind of rule a value breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// The value is empty.
    Empty,
    /// The value is longer than its limit.
    TooLong,
    /// The value does not have the required shape (an email without `@`, whitespace, …).
    Malformed,
    /// The value is reserved (a user group name starting with `_`, `_org_admin`).
    Reserved,
}

/// A value that breaks a rule of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which kind of rule.
    pub kind: ViolationKind,
    /// What is wrong, naming the value, and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Violation {}

fn violation(kind: ViolationKind, message: String) -> Violation {
    Violation { kind, message }
}

/// Whether `value` has the shape of an email address. UMAPI reads an email-shaped
/// `user` as an email, never as a username.
pub fn is_email_shaped(value: &str) -> bool {
    value.contains('@')
}

/// The domain part of an email (`""` when there is no `@`).
pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// An email address: exactly one `@` with text on both sides, no whitespace, at most
/// [`MAX_EMAIL_CHARS`] characters.
pub fn check_email(email: &str) -> Result<(), Violation> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err(violation(
            ViolationKind::Malformed,
            format!("`{email}` is not an email address: it has no `@`"),
        ));
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(violation(
            ViolationKind::Malformed,
            format!(
                "`{email}` is not an email address: expected exactly one `@` with text on both sides"
            ),
        ));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(violation(
            ViolationKind::Malformed,
            format!("`{email}` is not an email address: it contains whitespace"),
        ));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(violation(
            ViolationKind::TooLong,
            format!("email `{email}` is longer than UMAPI's limit of {MAX_EMAIL_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A domain name: non-empty, no `@`, no whitespace, at most [`MAX_NAME_CHARS`] characters.
pub fn check_domain(domain: &str) -> Result<(), Violation> {
    if domain.is_empty() || domain.contains('@') || domain.chars().any(char::is_whitespace) {
        return Err(violation(
            ViolationKind::Malformed,
            format!("`{domain}` is not a domain name (expected something like `example.com`)"),
        ));
    }
    check_length("domain", domain, MAX_NAME_CHARS)
}

/// A username: non-empty, no whitespace, at most [`MAX_NAME_CHARS`] characters, and a valid
/// email when it has the shape of one.
pub fn check_username(username: &str) -> Result<(), Violation> {
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(violation(
            ViolationKind::Malformed,
            format!("username `{username}` must be non-empty and contain no whitespace"),
        ));
    }
    if is_email_shaped(username) {
        check_email(username)?;
    }
    check_length("username", username, MAX_NAME_CHARS)
}

/// A first or last name (`what` names the field in the message): at most
/// [`MAX_NAME_CHARS`] characters.
pub fn check_person_name(what: &str, value: &str) -> Result<(), Violation> {
    check_length(what, value, MAX_NAME_CHARS)
}

fn check_length(what: &str, value: &str, max: usize) -> Result<(), Violation> {
    if value.chars().count() > max {
        return Err(violation(
            ViolationKind::TooLong,
            format!("{what} `{value}` is longer than UMAPI's limit of {max} characters"),
        ));
    }
    Ok(())
}

/// A country: two upper-case ASCII letters (ISO 3166-1 alpha-2).
pub fn check_country(country: &str) -> Result<(), Violation> {
    if country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(violation(
            ViolationKind::Malformed,
            format!(
                "country `{country}` must be a two-letter upper-case ISO 3166 code such as `US` or `GB`"
            ),
        ))
    }
}

/// The name of any group (user group, product profile, admin group): not blank, at most
/// [`MAX_GROUP_NAME_CHARS`] characters.
pub fn check_group_name(name: &str) -> Result<(), Violation> {
    if name.trim().is_empty() {
        return Err(violation(
            ViolationKind::Empty,
            "a group name must not be empty".into(),
        ));
    }
    if name.chars().count() > MAX_GROUP_NAME_CHARS {
        return Err(violation(
            ViolationKind::TooLong,
            format!(
                "group name `{name}` is longer than UMAPI's limit of {MAX_GROUP_NAME_CHARS} characters"
            ),
        ));
    }
    Ok(())
}

/// The name of a user group to create or rename to: a group name that does not start with
/// `_` (such names are Adobe's admin groups).
pub fn check_user_group_name(name: &str) -> Result<(), Violation> {
    check_group_name(name)?;
    if name.starts_with('_') {
        return Err(violation(
            ViolationKind::Reserved,
            format!(
                "user group name `{name}` must not start with `_` (names starting with `_` are reserved for Adobe's admin groups)"
            ),
        ));
    }
    Ok(())
}

/// Whether `name` is one of the [`RESERVED_GROUP_NAMES`] (case-insensitively).
pub fn is_reserved_group(name: &str) -> bool {
    RESERVED_GROUP_NAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
}

/// Refuses membership changes of the [`RESERVED_GROUP_NAMES`].
pub fn check_not_reserved<S: AsRef<str>>(groups: &[S]) -> Result<(), Violation> {
    match groups.iter().find(|g| is_reserved_group(g.as_ref())) {
        Some(g) => Err(violation(
            ViolationKind::Reserved,
            format!(
                "`{}` (system administrators) cannot be assigned or removed through UMAPI",
                g.as_ref()
            ),
        )),
        None => Ok(()),
    }
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Whether `name` is the name of one of Adobe's admin groups ([`ORG_ADMIN_GROUP`] or a
/// name starting with one of the [`ADMIN_GROUP_PREFIXES`]).
pub fn is_admin_group_name(name: &str) -> bool {
    is_reserved_group(name)
        || ADMIN_GROUP_PREFIXES
            .iter()
            .any(|prefix| starts_with_ignore_case(name, prefix))
}

/// The admin group of a user group or product profile: `_admin_<name>`.
pub fn admin_group_for(name: &str) -> String {
    format!("{ADMIN_PREFIX}{name}")
}

/// The group type an admin group's name implies, and the name of the group it administers
/// (for `_admin_`, `_product_admin_` and `_developer_` groups). An `_admin_` group is a
/// [`GroupType::UserAdminGroup`] or a [`GroupType::ProfileAdminGroup`] depending on what
/// it administers, so `administers_profile` decides. `None` for names that are not admin
/// group names.
pub fn admin_group_type(name: &str, administers_profile: bool) -> Option<(GroupType, &str)> {
    if is_reserved_group(name) {
        return Some((GroupType::SysadminGroup, ""));
    }
    let after = |prefix: &str| starts_with_ignore_case(name, prefix).then(|| &name[prefix.len()..]);
    if let Some(target) = after(PRODUCT_ADMIN_PREFIX) {
        return Some((GroupType::ProductAdminGroup, target));
    }
    if let Some(target) = after(DEVELOPER_PREFIX) {
        return Some((GroupType::DeveloperGroup, target));
    }
    if let Some(target) = after(ADMIN_PREFIX) {
        let kind = if administers_profile {
            GroupType::ProfileAdminGroup
        } else {
            GroupType::UserAdminGroup
        };
        return Some((kind, target));
    }
    if starts_with_ignore_case(name, SUPPORT_ADMIN_GROUP) {
        return Some((GroupType::SupportAdminGroup, ""));
    }
    if starts_with_ignore_case(name, DEPLOYMENT_ADMIN_GROUP) {
        return Some((GroupType::DeploymentAdminGroup, ""));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_documented_rule() {
        // ErrorRef.md, error.user.email.invalid: "The email address is invalid: more than
        // 60 characters long, missing @, or contains illegal character."
        assert!(check_email("ada@example.com").is_ok());
        for bad in [
            "ada.example.com",
            "@example.com",
            "ada@",
            "a@b@c",
            "a da@example.com",
        ] {
            assert_eq!(
                check_email(bad).unwrap_err().kind,
                ViolationKind::Malformed,
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 11));
        assert_eq!(long.chars().count(), MAX_EMAIL_CHARS + 1);
        assert_eq!(check_email(&long).unwrap_err().kind, ViolationKind::TooLong);
        assert!(check_email(&long[1..]).is_ok());
    }

    #[test]
    fn user_group_names_are_at_most_255_characters_and_never_start_with_underscore() {
        assert!(check_user_group_name(&"é".repeat(255)).is_ok());
        assert_eq!(
            check_user_group_name(&"é".repeat(256)).unwrap_err().kind,
            ViolationKind::TooLong
        );
        assert_eq!(
            check_user_group_name("_admin_Eng").unwrap_err().kind,
            ViolationKind::Reserved
        );
        assert_eq!(
            check_user_group_name("  ").unwrap_err().kind,
            ViolationKind::Empty
        );
        // Any group (admin groups included) may be named in a membership step.
        assert!(check_group_name("_admin_Eng").is_ok());
    }

    #[test]
    fn org_admin_is_reserved_in_any_case() {
        assert!(is_reserved_group("_ORG_ADMIN"));
        assert!(!is_reserved_group("_admin_org"));
        assert!(check_not_reserved(&["Eng", "_Org_Admin"]).is_err());
        assert!(check_not_reserved(&["Eng", "_admin_Eng"]).is_ok());
    }

    #[test]
    fn admin_group_names_map_to_adobes_group_types() {
        // group.md: "There are three administrative groups with fixed names:
        // Administrators: `_org_admin`, Support Administrators: `_support_admin`,
        // Deployment Administrators: `_deployment_admin`" and "`_admin_Marketing Group`,
        // `_product_admin_Adobe Document Cloud for business` or `_developer_Marketing Group`".
        let cases = [
            ("_org_admin", false, Some((GroupType::SysadminGroup, ""))),
            (
                "_support_admin",
                false,
                Some((GroupType::SupportAdminGroup, "")),
            ),
            (
                "_deployment_admin",
                false,
                Some((GroupType::DeploymentAdminGroup, "")),
            ),
            (
                "_admin_Eng",
                false,
                Some((GroupType::UserAdminGroup, "Eng")),
            ),
            (
                "_admin_All Apps",
                true,
                Some((GroupType::ProfileAdminGroup, "All Apps")),
            ),
            (
                "_product_admin_Photoshop",
                false,
                Some((GroupType::ProductAdminGroup, "Photoshop")),
            ),
            (
                "_developer_All Apps",
                true,
                Some((GroupType::DeveloperGroup, "All Apps")),
            ),
            ("Engineering", false, None),
        ];
        for (name, profile, expected) in cases {
            assert_eq!(admin_group_type(name, profile), expected, "{name}");
            assert_eq!(is_admin_group_name(name), expected.is_some(), "{name}");
        }
    }

    #[test]
    fn countries_are_two_upper_case_letters() {
        assert!(check_country("GB").is_ok());
        for bad in ["gb", "GBR", "G", "ÉU"] {
            assert!(check_country(bad).is_err(), "{bad}");
        }
    }
}
