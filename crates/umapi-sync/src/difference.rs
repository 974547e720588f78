//! The first difference between a saved plan and the plan made again from the
//! same inputs: how `umapi apply PLAN` knows the file still says exactly what
//! will be sent.
//!
//! Both are compared as JSON values, the file's as read (unknown fields
//! included), so any edit is found: to the changes people review, to the wire
//! entries, to the limits, anywhere.

use serde_json::Value;

use crate::plan::Plan;

/// Values in a [`Difference`] are cut to this many characters.
const SHOWN: usize = 120;

/// Where a saved plan and the plan made again first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The field, like `phases[3].requests[0].entries[2].do[0]` (empty for the
    /// whole document).
    pub path: String,
    /// The saved value, as compact JSON (`(absent)` when the field is missing),
    /// cut to a readable length.
    pub saved: String,
    /// The value made again, the same way.
    pub derived: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(the document)"
        } else {
            &self.path
        };
        write!(
            f,
            "{path}: the file has {}, planning again gives {}",
            self.saved, self.derived
        )
    }
}

impl Plan {
    /// The first place where `saved` (a plan file as read) differs from this plan,
    /// made again from the same inputs; `None` when they are the same document.
    pub fn first_difference(&self, saved: &Value) -> Option<Difference> {
        // A plan is plain data: turning it into a JSON value cannot fail.
        let derived = serde_json::to_value(self).unwrap_or(Value::Null);
        first_difference(saved, &derived)
    }
}

/// The first place where two JSON values differ: fields of `derived` in key
/// order, then fields only `saved` has; list items in order.
pub fn first_difference(saved: &Value, derived: &Value) -> Option<Difference> {
    let mut path = String::new();
    walk(Some(saved), Some(derived), &mut path)
}

fn walk(saved: Option<&Value>, derived: Option<&Value>, path: &mut String) -> Option<Difference> {
    match (saved, derived) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in b {
                // Plans written when empty fields were left out read those fields as
                // empty: a field the file lacks is the same as an empty one.
                if !a.contains_key(key) && is_empty(value) {
                    continue;
                }
                if let Some(found) = at_key(path, key, |path| walk(a.get(key), Some(value), path)) {
                    return Some(found);
                }
            }
            for (key, value) in a {
                if !b.contains_key(key) {
                    return at_key(path, key, |path| walk(Some(value), None, path));
                }
            }
            None
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                let mark = path.len();
                path.push_str(&format!("[{index}]"));
                let found = walk(a.get(index), b.get(index), path);
                path.truncate(mark);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (a, b) if same(a, b) => None,
        (a, b) => Some(Difference {
            path: path.clone(),
            saved: show(a),
            derived: show(b),
        }),
    }
}

fn at_key(
    path: &mut String,
    key: &str,
    then: impl FnOnce(&mut String) -> Option<Difference>,
) -> Option<Difference> {
    let mark = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    let found = then(path);
    path.truncate(mark);
    found
}

/// Equal values; numbers compare by value, so `2` and `2.0` are the same.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (a, b) => a == b,
    }
}

/// `[]`, `false` or `null`: what a plan field the file lacks reads as.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn show(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() <= SHOWN {
        return text;
    }
    let cut: String = text.chars().take(SHOWN).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_documents_have_no_difference() {
        let plan = json!({"a": 1, "b": [1, {"c": "x"}], "d": 0.5});
        assert_eq!(first_difference(&plan, &plan.clone()), None);
        assert_eq!(first_difference(&json!({"n": 2.0}), &json!({"n": 2})), None);
    }

    #[test]
    fn a_changed_value_is_named_by_its_path() {
        let derived = json!({"phases": [{"requests": [{"entries": [
            {"user": "a@x", "do": [{"removeFromOrg": {"deleteAccount": false}}]}
        ]}]}]});
        let mut saved = derived.clone();
        saved["phases"][0]["requests"][0]["entries"][0]["user"] = json!("b@x");
        saved["phases"][0]["requests"][0]["entries"][0]["do"][0]["removeFromOrg"]["deleteAccount"] =
            json!(true);
        let found = first_difference(&saved, &derived).unwrap();
        // Fields are walked in key order, so `do` comes before `user`.
        assert_eq!(
            found.path,
            "phases[0].requests[0].entries[0].do[0].removeFromOrg.deleteAccount"
        );
        assert_eq!(
            (found.saved.as_str(), found.derived.as_str()),
            ("true", "false")
        );
    }

    #[test]
    fn an_appended_entry_and_an_added_field_are_differences() {
        let derived = json!({"entries": [1, 2]});
        let found = first_difference(&json!({"entries": [1, 2, 3]}), &derived).unwrap();
        assert_eq!(found.path, "entries[2]");
        assert_eq!(
            (found.saved.as_str(), found.derived.as_str()),
            ("3", "(absent)")
        );

        let found = first_difference(&json!({"entries": [1, 2], "extra": true}), &derived);
        assert_eq!(found.unwrap().path, "extra");
        let found = first_difference(&json!({}), &derived).unwrap();
        assert_eq!(
            (found.path.as_str(), found.saved.as_str()),
            ("entries", "(absent)")
        );
    }

    #[test]
    fn a_field_the_file_lacks_is_the_same_as_an_empty_one_but_not_a_missing_item() {
        let derived = json!({"warnings": [], "reassert": false, "rate": null, "n": [1, null]});
        assert_eq!(first_difference(&json!({"n": [1, null]}), &derived), None);
        let found = first_difference(&json!({"n": [1]}), &derived).unwrap();
        assert_eq!(found.path, "n[1]");
        let derived = json!({"blocked": [{"limit": "max_user_removals"}]});
        let found = first_difference(&json!({}), &derived).unwrap();
        assert_eq!(found.path, "blocked");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let found = first_difference(&json!({"a": long}), &json!({"a": "y"})).unwrap();
        assert!(found.saved.ends_with('…'));
        assert!(found.saved.chars().count() <= SHOWN + 1);
        assert_eq!(
            found.to_string(),
            format!(
                "a: the file has {}, planning again gives \"y\"",
                found.saved
            )
        );
    }
}
