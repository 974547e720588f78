//! The rules each state file must follow on its own: identities, names, countries,
//! lengths, and the syntax of settings (exclusion patterns, limits).
//!
//! Rules that need every file at once (duplicates, references, defaults from the
//! settings) live in `merge`.

use super::Source;
use crate::desired::{GroupSpec, Limit, Location, ProfileSpec, Settings, UserSpec, parse_percent};
use crate::error::Diagnostic;
use crate::yaml::Step;

use umapi_core::protocol::{
    MAX_EMAIL_CHARS, MAX_GROUP_NAME_CHARS, MAX_NAME_CHARS, ORG_ADMIN_GROUP,
};

pub(crate) fn problem(location: Location, message: String, hint: Option<&str>) -> Diagnostic {
    Diagnostic {
        location: Some(location),
        message,
        hint: hint.map(str::to_owned),
    }
}

/// Every problem in one file that can be seen without the others.
pub(crate) fn check_file(source: &Source<'_>) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (index, user) in source.content.users.iter().enumerate() {
        check_user(source, index, user, &mut found);
    }
    for (index, group) in source.content.groups.iter().enumerate() {
        check_group(source, index, group, &mut found);
    }
    for (index, profile) in source.content.profiles.iter().enumerate() {
        let path = [Step::Key("profiles"), Step::Index(index)];
        check_name(source, &path, &profile.name, "product profile", &mut found);
        check_members(source, &path, profile, &mut found);
    }
    for (index, admin_group) in source.content.admin_groups.iter().enumerate() {
        check_admin_group(source, index, admin_group, &mut found);
    }
    if let Some(settings) = &source.content.settings {
        found.extend(check_settings(settings, |path| {
            let mut full = vec![Step::Key("settings")];
            full.extend_from_slice(path);
            source.location(&full)
        }));
    }
    found
}

fn check_user(source: &Source<'_>, index: usize, user: &UserSpec, found: &mut Vec<Diagnostic>) {
    let at = |key: &'static str| {
        source.location(&[Step::Key("users"), Step::Index(index), Step::Key(key)])
    };
    if user.email.is_none() && user.username.is_none() {
        found.push(problem(
            source.location(&[Step::Key("users"), Step::Index(index)]),
            "a user needs an identity: neither `email` nor `username` is given".to_owned(),
            Some(
                "add `email: …`, or `username: …` and `domain: …` for a Federated ID whose \
                 username is not an email address",
            ),
        ));
    }
    let hidden = |key: &'static str, value: &Option<Box<str>>, found: &mut Vec<Diagnostic>| {
        value
            .as_deref()
            .is_some_and(|value| check_hidden(value, format_args!("`{key}`"), || at(key), found))
    };
    let email_hidden = hidden("email", &user.email, found);
    let username_hidden = hidden("username", &user.username, found);
    let domain_hidden = hidden("domain", &user.domain, found);
    let firstname_hidden = hidden("firstname", &user.firstname, found);
    let lastname_hidden = hidden("lastname", &user.lastname, found);
    if let Some(email) = user.email.as_ref().filter(|_| !email_hidden) {
        if !is_email(email) {
            found.push(problem(
                at("email"),
                format!("`{email}` is not a valid email address"),
                Some("an email address looks like name@example.com, without spaces"),
            ));
        } else if longer_than(email, MAX_EMAIL_CHARS) {
            found.push(problem(
                at("email"),
                format!(
                    "email `{email}` is {} characters long; UMAPI allows at most {MAX_EMAIL_CHARS}",
                    email.chars().count()
                ),
                Some("UMAPI cannot manage a user with a longer address; use a shorter one"),
            ));
        }
    }
    match (&user.username, &user.domain) {
        (Some(username), None) if !username.contains('@') => found.push(problem(
            at("username"),
            format!("username `{username}` needs a `domain`"),
            Some("add `domain: example.com` with the domain the username signs in with"),
        )),
        (None, Some(_)) => found.push(problem(
            at("domain"),
            "`domain` is only used together with `username`".to_owned(),
            Some("remove `domain`, or add the `username` it belongs to"),
        )),
        _ => {}
    }
    if let Some(username) = user.username.as_ref().filter(|_| !username_hidden)
        && (username.trim().is_empty() || username.chars().any(char::is_whitespace))
    {
        found.push(problem(
            at("username"),
            format!("`{username}` is not a valid username: it is empty or contains spaces"),
            Some("write the username the user signs in with, without spaces"),
        ));
    }
    if let Some(domain) = user.domain.as_ref().filter(|_| !domain_hidden)
        && !is_domain(domain)
    {
        found.push(problem(
            at("domain"),
            format!("`{domain}` is not a valid domain name"),
            Some("a domain looks like example.com"),
        ));
    }
    if let Some(country) = &user.country {
        check_country(country, || at("country"), "country", found);
    }
    for (key, value, hidden) in [
        ("firstname", &user.firstname, firstname_hidden),
        ("lastname", &user.lastname, lastname_hidden),
    ] {
        if let Some(value) = value
            && !hidden
            && longer_than(value, MAX_NAME_CHARS)
        {
            found.push(problem(
                at(key),
                format!(
                    "`{key}` is {} characters long; UMAPI allows at most {MAX_NAME_CHARS}",
                    value.chars().count()
                ),
                Some("shorten it"),
            ));
        }
    }
    let list_path = |key: &'static str, position: usize| {
        source.location(&[
            Step::Key("users"),
            Step::Index(index),
            Step::Key(key),
            Step::Index(position),
        ])
    };
    for (position, membership) in user.groups.iter().enumerate() {
        check_hidden(membership, "entry", || list_path("groups", position), found);
        if let Some(until) = &membership.until {
            let at = || {
                source.location(&[
                    Step::Key("users"),
                    Step::Index(index),
                    Step::Key("groups"),
                    Step::Index(position),
                    Step::Key("until"),
                ])
            };
            check_until(until, at, found);
        }
    }
    for (position, entry) in user.previously.iter().enumerate() {
        check_hidden(entry, "entry", || list_path("previously", position), found);
    }
    if let Some(until) = &user.until {
        check_until(until, || at("until"), found);
    }
    for (position, group) in user.groups.iter().enumerate() {
        if group.eq_ignore_ascii_case(ORG_ADMIN_GROUP) {
            found.push(org_admin_problem(list_path("groups", position)));
        }
    }
    check_repeats(
        &user.groups,
        |position| list_path("groups", position),
        "group",
        found,
    );
    let own: Vec<String> = if user.previously.is_empty() {
        Vec::new()
    } else {
        [&user.email, &user.username]
            .into_iter()
            .flatten()
            .map(|identity| identity.to_lowercase())
            .collect()
    };
    for (position, earlier) in user.previously.iter().enumerate() {
        if own.contains(&earlier.to_lowercase()) {
            found.push(problem(
                list_path("previously", position),
                format!("`{earlier}` in `previously` is the user's current identity"),
                Some("`previously` lists earlier emails or usernames only; remove this entry"),
            ));
        }
    }
    check_repeats(
        &user.previously,
        |position| list_path("previously", position),
        "earlier identity",
        found,
    );
}

fn check_group(source: &Source<'_>, index: usize, group: &GroupSpec, found: &mut Vec<Diagnostic>) {
    let path = [Step::Key("groups"), Step::Index(index)];
    check_name(source, &path, &group.name, "user group", found);
    let list_path = |key: &'static str, position: usize| {
        source.location(&[
            Step::Key("groups"),
            Step::Index(index),
            Step::Key(key),
            Step::Index(position),
        ])
    };
    for (key, list) in [
        ("previously", &group.previously),
        ("profiles", &group.profiles),
        ("members", &group.members),
    ] {
        for (position, entry) in list.iter().enumerate() {
            check_hidden(entry, "entry", || list_path(key, position), found);
        }
    }
    for (position, earlier) in group.previously.iter().enumerate() {
        if earlier.to_lowercase() == group.name.to_lowercase() {
            found.push(problem(
                list_path("previously", position),
                format!("`{earlier}` in `previously` is the group's current name"),
                Some("`previously` lists earlier names only; remove this entry"),
            ));
        } else if earlier.starts_with('_')
            || earlier.chars().count() > MAX_GROUP_NAME_CHARS
            || earlier.trim().is_empty()
        {
            found.push(problem(
                list_path("previously", position),
                format!("`{earlier}` cannot have been the name of a user group"),
                Some("user group names do not start with `_` and have 1 to 255 characters"),
            ));
        }
    }
    check_repeats(
        &group.previously,
        |position| list_path("previously", position),
        "earlier name",
        found,
    );
    check_repeats(
        &group.profiles,
        |position| list_path("profiles", position),
        "profile",
        found,
    );
    check_repeats(
        &group.members,
        |position| list_path("members", position),
        "member",
        found,
    );
}

fn check_admin_group(
    source: &Source<'_>,
    index: usize,
    admin_group: &ProfileSpec,
    found: &mut Vec<Diagnostic>,
) {
    let path = [Step::Key("admin_groups"), Step::Index(index)];
    let name_at = || {
        source.location(&[
            Step::Key("admin_groups"),
            Step::Index(index),
            Step::Key("name"),
        ])
    };
    if check_hidden(&admin_group.name, "admin group name", name_at, found) {
        // Reported: the other rules would quote the same value again.
    } else if admin_group.name.eq_ignore_ascii_case(ORG_ADMIN_GROUP) {
        found.push(org_admin_problem(name_at()));
    } else if !admin_group.name.starts_with('_') {
        found.push(problem(
            name_at(),
            format!("admin group `{}` must start with `_`", admin_group.name),
            Some(
                "admin groups are named like `_admin_Engineering` or `_product_admin_Photoshop`; \
                 a user group goes under `groups:`",
            ),
        ));
    } else if admin_group.name.chars().count() > MAX_GROUP_NAME_CHARS {
        found.push(too_long(name_at(), &admin_group.name));
    }
    check_members(source, &path, admin_group, found);
}

/// The rules for a user group's or product profile's name.
fn check_name(
    source: &Source<'_>,
    path: &[Step<'_>; 2],
    name: &str,
    noun: &str,
    found: &mut Vec<Diagnostic>,
) {
    let name_at = || source.location(&[path[0], path[1], Step::Key("name")]);
    if check_hidden(name, format_args!("{noun} name"), name_at, found) {
        return;
    }
    if name.trim().is_empty() {
        found.push(problem(
            name_at(),
            format!("a {noun} needs a name"),
            Some("write the name as it appears in the Admin Console"),
        ));
    } else if name.eq_ignore_ascii_case(ORG_ADMIN_GROUP) {
        found.push(org_admin_problem(name_at()));
    } else if noun == "user group" && name.starts_with('_') {
        found.push(problem(
            name_at(),
            format!("user group name `{name}` must not start with `_`"),
            Some(
                "names starting with `_` belong to admin groups: declare it under `admin_groups:`",
            ),
        ));
    } else if name.chars().count() > MAX_GROUP_NAME_CHARS {
        found.push(too_long(name_at(), name));
    }
}

fn check_members(
    source: &Source<'_>,
    path: &[Step<'_>; 2],
    spec: &ProfileSpec,
    found: &mut Vec<Diagnostic>,
) {
    for (position, member) in spec.members.iter().enumerate() {
        check_hidden(
            member,
            "member",
            || {
                source.location(&[
                    path[0],
                    path[1],
                    Step::Key("members"),
                    Step::Index(position),
                ])
            },
            found,
        );
    }
    check_repeats(
        &spec.members,
        |position| {
            source.location(&[
                path[0],
                path[1],
                Step::Key("members"),
                Step::Index(position),
            ])
        },
        "member",
        found,
    );
}

fn too_long(location: Location, name: &str) -> Diagnostic {
    problem(
        location,
        format!(
            "name `{}…` is {} characters long; UMAPI allows at most {MAX_GROUP_NAME_CHARS}",
            name.chars().take(40).collect::<String>(),
            name.chars().count()
        ),
        Some("shorten it"),
    )
}

fn org_admin_problem(location: Location) -> Diagnostic {
    problem(
        location,
        format!("`{ORG_ADMIN_GROUP}` cannot be managed: UMAPI can neither assign nor remove it"),
        Some("remove it; grant and revoke org admin rights in the Admin Console"),
    )
}

/// Reports each entry that repeats an earlier one in the same list (ignoring case).
fn check_repeats<T: std::ops::Deref<Target = str> + std::fmt::Display>(
    list: &[T],
    location: impl Fn(usize) -> Location,
    noun: &str,
    found: &mut Vec<Diagnostic>,
) {
    if list.len() < 2 {
        return;
    }
    // A user's few groups: lower-casing ASCII needs no copy, and text that is not
    // ASCII may lower-case into ASCII (the Kelvin sign into `k`), so it takes the map.
    if list.len() <= 8 && list.iter().all(|entry| entry.is_ascii()) {
        for (position, entry) in list.iter().enumerate() {
            if let Some(first) = list[..position]
                .iter()
                .position(|earlier| earlier.eq_ignore_ascii_case(entry))
            {
                found.push(repeated(noun, entry, &location, position, first));
            }
        }
        return;
    }
    // A map, not a scan of the earlier entries: `members:` lists can be long.
    let mut first_seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (position, entry) in list.iter().enumerate() {
        match first_seen.entry(entry.to_lowercase()) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(position);
            }
            std::collections::hash_map::Entry::Occupied(first) => {
                found.push(repeated(noun, entry, &location, position, *first.get()));
            }
        }
    }
}

fn repeated(
    noun: &str,
    entry: impl std::fmt::Display,
    location: impl Fn(usize) -> Location,
    position: usize,
    first: usize,
) -> Diagnostic {
    problem(
        location(position),
        format!(
            "{noun} `{entry}` is listed twice (first at {})",
            location(first)
        ),
        Some("remove one of the two"),
    )
}

/// Whether `text` has more than `most` characters; a text of no more bytes has not.
fn longer_than(text: &str, most: usize) -> bool {
    text.len() > most && text.chars().count() > most
}

/// An `until` must be a real calendar day written `YYYY-MM-DD`.
fn check_until(until: &str, location: impl FnOnce() -> Location, found: &mut Vec<Diagnostic>) {
    if crate::expiry::parse_day(until).is_none() {
        found.push(problem(
            location(),
            format!("`until: {until}` is not a date"),
            Some("write the last day of access as YYYY-MM-DD, like `until: 2026-12-31`"),
        ));
    }
}

fn check_country(
    country: &str,
    location: impl FnOnce() -> Location,
    key: &str,
    found: &mut Vec<Diagnostic>,
) {
    if !is_country(country) {
        let upper = country.to_uppercase();
        let hint = if is_country(&upper) {
            format!("write `{upper}`")
        } else {
            "use the ISO 3166-1 alpha-2 code, like `US`, `GB` or `DE`".to_owned()
        };
        found.push(problem(
            location(),
            format!("{key} `{country}` must be two upper-case letters"),
            Some(&hint),
        ));
    }
}

/// The rules for settings, wherever they were written; `at` locates a path inside them.
pub(crate) fn check_settings(
    settings: &Settings,
    at: impl Fn(&[Step<'_>]) -> Location,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if let Some(country) = &settings.default_country {
        check_country(
            country,
            || at(&[Step::Key("default_country")]),
            "default_country",
            &mut found,
        );
    }
    for (position, pattern) in settings.exclude.users.iter().enumerate() {
        if let Err(error) = user_pattern(pattern) {
            let detail = error.to_string();
            let detail = detail.lines().last().unwrap_or_default().trim();
            found.push(problem(
                at(&[
                    Step::Key("exclude"),
                    Step::Key("users"),
                    Step::Index(position),
                ]),
                format!("`{pattern}` is not a valid regular expression: {detail}"),
                Some("patterns use Rust regex syntax (https://docs.rs/regex) and ignore case"),
            ));
        }
    }
    for (key, limit) in [
        ("max_user_removals", &settings.limits.max_user_removals),
        (
            "max_membership_removals",
            &settings.limits.max_membership_removals,
        ),
        ("max_group_deletions", &settings.limits.max_group_deletions),
        (
            "max_seats_over_quota",
            &settings.limits.max_seats_over_quota,
        ),
    ] {
        if let Some(Limit::Percent(text)) = limit
            && parse_percent(text).is_none()
        {
            found.push(problem(
                at(&[Step::Key("limits"), Step::Key(key)]),
                format!("`{text}` is not a valid limit for `{key}`"),
                Some("write a count like `3`, or a percentage from 0% to 100% like `5%`"),
            ));
        }
    }
    found
}

/// An exclusion pattern as it is matched: against email or username, ignoring case.
pub(crate) fn user_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
}

/// A plausible email address: one `@`, something before it, a domain after it.
pub(crate) fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c == '@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && is_domain(domain)
}

/// A domain name: dot-separated labels of letters, digits and hyphens, with at least
/// one dot.
pub(crate) fn is_domain(text: &str) -> bool {
    text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Two upper-case ASCII letters.
pub(crate) fn is_country(text: &str) -> bool {
    text.len() == 2 && text.chars().all(|c| c.is_ascii_uppercase())
}

/// Whether `c` is invisible in a name yet changes how text reads: a control
/// character (tab, line break, escape), a bidirectional control that reorders the
/// text around it (U+202E RIGHT-TO-LEFT OVERRIDE shows `moc.elpmaxe@` as
/// `example.com@`), a line or paragraph separator, or a byte order mark.
/// Joiners (U+200C, U+200D) are left alone: some scripts spell names with them.
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
        )
}

/// `text` with each hidden character (see [`is_hidden`]) written as `\u{…}`, so a
/// message quoting a value cannot reorder or erase what a terminal shows.
pub(crate) fn escape_hidden(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            escaped.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// Reports `text` (the value of `what`) when it holds a hidden character; returns
/// whether it did, so the value's other checks can stay quiet.
fn check_hidden(
    text: &str,
    what: impl std::fmt::Display,
    location: impl FnOnce() -> Location,
    found: &mut Vec<Diagnostic>,
) -> bool {
    // Printable ASCII, as nearly every value is, holds no hidden character.
    if text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
        return false;
    }
    let Some((position, c)) = text.chars().enumerate().find(|(_, c)| is_hidden(*c)) else {
        return false;
    };
    let kind = if c.is_control() {
        "a control character"
    } else {
        "an invisible formatting character"
    };
    found.push(problem(
        location(),
        format!(
            "{what} `{}` holds {kind} (U+{:04X}, character {})",
            escape_hidden(text),
            u32::from(c),
            position + 1
        ),
        Some(
            "retype the value: names and emails may not hold tabs, line breaks, control \
             characters or text-direction overrides (often pasted in unseen)",
        ),
    ));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_syntax() {
        for good in ["ada@example.com", "a.b+c@sub.example.co.uk", "x@b.io"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "a@@example.com",
            "a@example",
            "a@exa mple.com",
            "a@.com",
            ".a@example.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whichever way a list is searched, the repeats found are those of its
        /// entries lower-cased, each against its first spelling.
        #[test]
        fn repeats_are_entries_equal_lower_cased(
            list in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Staff", "staff", "STAFF", "Ops", "k", "K", "\u{212A}", "é", "É", "Σ", "σ",
                ]),
                0..12,
            ),
        ) {
            let at = |position: usize| Location {
                file: "t.yaml".into(),
                line: position,
                column: 1,
            };
            let mut found = Vec::new();
            check_repeats(&list, at, "group", &mut found);
            let reported: Vec<usize> = found
                .iter()
                .map(|problem| problem.location.as_ref().unwrap().line)
                .collect();
            let expected: Vec<usize> = (0..list.len())
                .filter(|&position| {
                    list[..position]
                        .iter()
                        .any(|earlier| earlier.to_lowercase() == list[position].to_lowercase())
                })
                .collect();
            proptest::prop_assert_eq!(reported, expected);
            for problem in &found {
                let position = problem.location.as_ref().unwrap().line;
                let first = list
                    .iter()
                    .position(|earlier| earlier.to_lowercase() == list[position].to_lowercase())
                    .unwrap();
                let first_at = format!("(first at {})", at(first));
                proptest::prop_assert!(problem.message.ends_with(&first_at), "{}", problem.message);
            }
        }
    }

    #[test]
    fn a_hidden_character_is_found_wherever_it_is() {
        for c in ('\u{0}'..='\u{3000}').chain('\u{fe00}'..='\u{ffff}') {
            let text = format!("name{c}x");
            let mut found = Vec::new();
            let at = || Location {
                file: "t.yaml".into(),
                line: 1,
                column: 1,
            };
            assert_eq!(
                check_hidden(&text, "`firstname`", at, &mut found),
                is_hidden(c),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(found.len(), usize::from(is_hidden(c)));
        }
    }

    proptest::proptest! {
        #[test]
        fn longer_than_counts_characters(text in ".{0,12}", most in 0usize..14) {
            proptest::prop_assert_eq!(longer_than(&text, most), text.chars().count() > most);
        }
    }

    #[test]
    fn country_syntax() {
        assert!(is_country("GB"));
        assert!(!is_country("gb"));
        assert!(!is_country("GBR"));
        assert!(!is_country("G1"));
    }
}
