//! Users written plainly, as `umapi export` writes them, converted straight from
//! their item: known keys, each once, with text values, an identity type by name,
//! and lists of plain names.
//!
//! A large org's state is nearly all such users, and the general path walks each
//! against the JSON schema (a map look-up per key) and has serde buffer each group
//! name to try the two forms of a membership. Such a user has nothing for the
//! schema check to report and converts to one value, built here directly; a user
//! written any other way takes the general path, which also words its problems
//! (`tests::plain_users_read_as_the_general_path_reads_them`).

use umapi_core::wire::IdentityType;

use super::lines::line;
use super::{Line, Membership, UserSpec};
use crate::yaml::{Node, Value, is_null_text, is_typed_plain};

/// The user `item` when it is written plainly; else the item, for the general path.
pub(super) fn user(item: Node) -> Result<UserSpec, Node> {
    if !is_plain_user(&item) {
        return Err(item);
    }
    let Value::Mapping(entries) = item.value else {
        unreachable!("a plain user is a mapping");
    };
    let mut user = UserSpec::default();
    for (key, value) in entries {
        let Value::Scalar { text: name, .. } = key.value else {
            unreachable!("a plain user's keys are names");
        };
        match name.as_str() {
            "email" => user.email = Some(text(value)),
            "username" => user.username = Some(text(value)),
            "domain" => user.domain = Some(text(value)),
            "firstname" => user.firstname = Some(text(value)),
            "lastname" => user.lastname = Some(text(value)),
            "country" => user.country = Some(text(value)),
            "until" => {
                user.until = Some(text(value));
                user.until_line = Line(line(key.mark));
            }
            "type" => user.identity_type = value.scalar().and_then(identity_type),
            "groups" => {
                user.groups = exactly(items(value).map(|entry| Membership {
                    line: Line(line(entry.mark)),
                    name: text(entry),
                    until: None,
                    until_line: Line(0),
                }));
            }
            "previously" => user.previously = exactly(items(value).map(text)).into(),
            _ => unreachable!("a plain user has known keys only"),
        }
    }
    Ok(user)
}

/// The keys of a user, in the order of the bits that note them seen.
const KEYS: [&str; 10] = [
    "email",
    "username",
    "domain",
    "firstname",
    "lastname",
    "country",
    "until",
    "type",
    "groups",
    "previously",
];

fn is_plain_user(item: &Node) -> bool {
    let Value::Mapping(entries) = &item.value else {
        return false;
    };
    let mut seen = 0u16;
    entries.iter().all(|(key, value)| {
        let Some(index) = key
            .scalar()
            .and_then(|name| KEYS.iter().position(|known| *known == name))
        else {
            return false;
        };
        if seen & (1 << index) != 0 {
            return false;
        }
        seen |= 1 << index;
        match KEYS[index] {
            "type" => value.scalar().and_then(identity_type).is_some(),
            // serde tries a membership's forms on the value it buffered, where a
            // plain `123` or `true` is no longer text.
            "groups" => list_of(value, |entry| {
                is_text(entry) && !matches!(&entry.value, Value::Scalar { text, quoted: false } if is_typed_plain(text))
            }),
            "previously" => list_of(value, is_text),
            _ => is_text(value),
        }
    })
}

/// A scalar that is not a null: what a text field takes as it is.
fn is_text(node: &Node) -> bool {
    match &node.value {
        Value::Scalar { text, quoted } => *quoted || !is_null_text(text),
        _ => false,
    }
}

fn list_of(node: &Node, each: impl Fn(&Node) -> bool) -> bool {
    matches!(&node.value, Value::Sequence(entries) if entries.iter().all(each))
}

/// The identity types a state file may name.
fn identity_type(name: &str) -> Option<IdentityType> {
    match name {
        "adobeID" => Some(IdentityType::AdobeId),
        "enterpriseID" => Some(IdentityType::EnterpriseId),
        "federatedID" => Some(IdentityType::FederatedId),
        _ => None,
    }
}

fn text(node: Node) -> Box<str> {
    match node.value {
        Value::Scalar { text, .. } => text.into_boxed_str(),
        _ => unreachable!("checked to be a scalar"),
    }
}

/// The values in a list of their own size: collecting a list's nodes in place
/// would keep the nodes' larger allocation for as long as the user is kept.
fn exactly<T>(values: impl ExactSizeIterator<Item = T>) -> Vec<T> {
    let mut list = Vec::with_capacity(values.len());
    list.extend(values);
    list
}

fn items(node: Node) -> std::vec::IntoIter<Node> {
    match node.value {
        Value::Sequence(entries) => entries.into_iter(),
        _ => unreachable!("checked to be a list"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::desired::lines::UserLines;
    use crate::yaml;

    /// The users of `text`, as the general reader hands them out.
    fn items(text: &str) -> Vec<Node> {
        let mut items = Vec::new();
        let read = yaml::read_streaming(Path::new("t.yaml"), text, &["users"], || {
            Gathered(Vec::new())
        });
        if let Ok((_, Gathered(gathered))) = read {
            items = gathered;
        }
        items
    }

    struct Gathered(Vec<Node>);

    impl yaml::Collector for Gathered {
        fn take(&mut self, _: &str, item: Node) {
            self.0.push(item);
        }

        fn append(&mut self, mut next: Self) {
            self.0.append(&mut next.0);
        }
    }

    /// The user as the general path reads it: `None` when the schema check
    /// reports a problem or serde cannot convert it.
    fn general(item: &Node) -> Option<UserSpec> {
        let schema = crate::schema::state_schema();
        let found = yaml::check_list_item(
            &schema,
            "users",
            item,
            Path::new("t.yaml"),
            &mut yaml::Fits::default(),
        );
        if !found.is_empty() {
            return None;
        }
        let lines = UserLines::of(item);
        let mut user: UserSpec = yaml::from_node(item.clone()).ok()?;
        lines.apply(&mut user);
        Some(user)
    }

    /// The lines kept beside a user, which its equality leaves out.
    fn lines(user: &UserSpec) -> (u32, Vec<(u32, u32)>) {
        let groups = user
            .groups
            .iter()
            .map(|group| (group.line.0, group.until_line.0))
            .collect();
        (user.until_line.0, groups)
    }

    /// Whatever this path reads, the general path reads the same, with nothing to
    /// report; returns whether this path read it.
    fn agrees(item: &Node) -> Result<bool, TestCaseError> {
        let Ok(plain) = user(item.clone()) else {
            return Ok(false);
        };
        let general = general(item);
        prop_assert_eq!(Some(&plain), general.as_ref(), "{:?}", item);
        prop_assert_eq!(lines(&plain), lines(&general.unwrap()));
        Ok(true)
    }

    #[test]
    fn users_as_exported_are_plain() {
        let text = "users:\n- email: ada@example.com\n  type: federatedID\n  firstname: Ada\n  \
                    lastname: O'Brien\n  country: GB\n  groups:\n  - Adobe Stock - Support\n  \
                    - 'Finance 16'\n  until: 2026-12-31\n- username: ada\n  domain: example.com\n  \
                    type: \"adobeID\"\n  previously: [old, 'older']\n  groups: []\n";
        let items = items(text);
        assert_eq!(items.len(), 2);
        for item in &items {
            assert!(agrees(item).unwrap(), "{item:?}");
        }
        let ada = user(items[0].clone()).unwrap();
        assert_eq!(lines(&ada), (10, vec![(8, 0), (9, 0)]));
        assert_eq!(ada.identity_type, Some(IdentityType::FederatedId));
        // A million users' lists are kept: without slack.
        assert_eq!(ada.groups.capacity(), ada.groups.len());
    }

    #[test]
    fn anything_else_takes_the_general_path() {
        for text in [
            "users:\n- email: a@example.com\n  emial: b@example.com\n",
            "users:\n- email: a@example.com\n  email: b@example.com\n",
            "users:\n- email: ~\n",
            "users:\n- email: a@example.com\n  type: unknown\n",
            "users:\n- email: a@example.com\n  groups: [Staff, 123]\n",
            "users:\n- email: a@example.com\n  groups: [Staff, true]\n",
            "users:\n- email: a@example.com\n  groups:\n  - name: Staff\n    until: 2026-12-31\n",
            "users:\n- email: a@example.com\n  groups: Staff\n",
            "users:\n- a@example.com\n",
        ] {
            let items = items(text);
            assert_eq!(items.len(), 1, "{text}");
            assert!(user(items[0].clone()).is_err(), "{text}");
        }
    }

    fn scalar() -> impl Strategy<Value = String> {
        let text = prop::sample::select(vec![
            "a@example.com",
            "Zoë",
            "123",
            "-1",
            "0x10",
            "1.5",
            ".inf",
            "true",
            "False",
            "~",
            "null",
            "adobeID",
            "enterpriseID",
            "federatedID",
            "unknown",
            "AdobeID",
            "x y",
            "2026-12-31",
            "US",
            "it's",
            "Staff",
        ]);
        (text, 0u8..3).prop_map(|(text, style)| match style {
            0 => text.to_owned(),
            1 => format!("'{}'", text.replace('\'', "''")),
            _ => format!("\"{text}\""),
        })
    }

    /// A value as written after `key:` (at the user's keys' column).
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => scalar().prop_map(|value| format!(" {value}")),
            2 => prop::collection::vec(scalar(), 0..4)
                .prop_map(|values| format!(" [{}]", values.join(", "))),
            2 => (prop::collection::vec(scalar(), 1..4), 0usize..3).prop_map(|(values, indent)| {
                values
                    .iter()
                    .map(|value| format!("\n  {}- {value}", " ".repeat(indent)))
                    .collect()
            }),
            1 => (scalar(), scalar())
                .prop_map(|(name, until)| format!("\n  - name: {name}\n    until: {until}")),
            1 => scalar().prop_map(|value| format!("\n    name: {value}")),
        ]
    }

    fn users() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "email",
            "username",
            "domain",
            "type",
            "firstname",
            "lastname",
            "country",
            "groups",
            "previously",
            "until",
            "email",
            "groups",
            "type",
            "Email",
            "name",
            "members",
        ]);
        let user = prop::collection::vec((key, value()), 1..6);
        prop::collection::vec(user, 1..4).prop_map(|users| {
            let mut text = String::from("users:\n");
            for user in users {
                for (index, (key, value)) in user.into_iter().enumerate() {
                    let dash = if index == 0 { "- " } else { "  " };
                    text.push_str(&format!("{dash}{key}:{value}\n"));
                }
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn plain_users_read_as_the_general_path_reads_them(text in users()) {
            for item in items(&text) {
                agrees(&item)?;
            }
        }

        #[test]
        fn plain_users_read_as_the_general_path_reads_them_when_damaged(
            text in users(),
            start in any::<prop::sample::Index>(),
            length in 0usize..8,
            insert in "[ -~\n]{0,6}",
        ) {
            let text = crate::yaml::damage(&text, start.index(text.len() + 1), length, &insert);
            for item in items(&text) {
                agrees(&item)?;
            }
        }
    }
}
