//! Checks a YAML tree against a JSON Schema generated from the Rust types, reporting
//! every misplaced, misspelt or mistyped value with its position.
//!
//! serde stops at the first problem and, for most of them, cannot say where it was;
//! walking the marked tree with the schema finds all of them, and the schema being
//! generated from the same types keeps this check and the typed parse in agreement.
//! Only the parts of JSON Schema that schemars emits for our types are understood:
//! `$ref`, `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `const`, `oneOf` and `anyOf`. Value rules (lengths, patterns) are left to the
//! validation that follows, which words them better.

use std::borrow::Cow;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value as Schema;

use super::suggest;
use super::tree::{Node, Value, is_null_text};
use crate::error::Diagnostic;

/// Decides about a key before the schema does; returns a message and hint for keys
/// that must never be written (secrets in the config file).
pub(crate) type KeyGuard<'a> = &'a dyn Fn(&str) -> Option<(String, String)>;

/// Checks `node` against the root `schema`; one diagnostic per problem.
/// `noun` names the whole document in messages ("a state file").
pub(crate) fn check(
    schema: &Schema,
    node: &Node,
    file: &Path,
    noun: &str,
    guard: Option<KeyGuard<'_>>,
) -> Vec<Diagnostic> {
    let mut checker = Checker {
        root: schema,
        file,
        guard,
        found: Vec::new(),
        strict: false,
        fits: Fits::default(),
    };
    checker.check(node, schema, noun);
    checker.found
}

/// Scalars found to fit a part of the schema, kept from one list item to the next
/// of a document: the thousands of users of a file name the same few hundred groups
/// and identity types, and each name is checked against its alternatives once.
///
/// Only whether a scalar fits is kept, never a message: a scalar that does not fit
/// is checked again, and reported where it is. Whether a scalar fits depends on
/// its text, its quoting and the part of the schema alone, never on where it is.
#[derive(Default)]
pub(crate) struct Fits(FxHashMap<(usize, bool, bool), FxHashSet<Box<str>>>);

impl Fits {
    fn key(schema: &Schema, quoted: bool, strict: bool) -> (usize, bool, bool) {
        // The schema outlives every check that uses this cache, so its parts keep
        // their addresses.
        (std::ptr::from_ref(schema) as usize, quoted, strict)
    }
}

/// Checks one item of the top-level list `list` of a document whose root `schema`
/// is given, as [`check`] would while checking the whole document.
pub(crate) fn check_list_item(
    schema: &Schema,
    list: &str,
    item: &Node,
    file: &Path,
    fits: &mut Fits,
) -> Vec<Diagnostic> {
    let Some(item_schema) = schema
        .get("properties")
        .and_then(|properties| properties.get(list))
        .and_then(|property| property.get("items"))
    else {
        return Vec::new();
    };
    let mut checker = Checker {
        root: schema,
        file,
        guard: None,
        found: Vec::new(),
        strict: false,
        fits: std::mem::take(fits),
    };
    if !checker.plainly_fits(item, item_schema) {
        // As the whole-document check names the items of the list `list`.
        let list_noun = format!("`{list}`");
        let noun = list_item_noun(&list_noun)
            .map(Cow::Borrowed)
            .unwrap_or_else(|| Cow::Owned(format!("an entry of {list_noun}")));
        checker.check(item, item_schema, &noun);
    }
    *fits = checker.fits;
    checker.found
}

struct Checker<'a> {
    root: &'a Schema,
    file: &'a Path,
    guard: Option<KeyGuard<'a>>,
    found: Vec<Diagnostic>,
    /// Inside a tagged choice, where serde buffers values before typing them.
    strict: bool,
    fits: Fits,
}

/// Whether a YAML scalar can stand for a JSON type, as serde_yaml reads it.
/// `strict` is for values serde buffers before typing them (inside a tagged
/// choice): there a plain `12345` or `true` is a number or a boolean, not text.
fn scalar_fits(node: &Node, json_type: &str, strict: bool) -> bool {
    let Value::Scalar { text, quoted } = &node.value else {
        return false;
    };
    let plain = !*quoted;
    match json_type {
        "null" => plain && is_null_text(text),
        // serde_yaml otherwise reads any non-null scalar into a string field.
        "string" => !(plain && (is_null_text(text) || (strict && is_typed_plain(text)))),
        "integer" => plain && parse_unsigned(text).is_some(),
        "number" => plain && is_number(text),
        "boolean" => plain && is_bool(text),
        _ => false,
    }
}

pub(super) fn is_bool(text: &str) -> bool {
    matches!(text, "true" | "false" | "True" | "False" | "TRUE" | "FALSE")
}

pub(super) fn is_number(text: &str) -> bool {
    // Every spelling of a number starts so; group names, which rarely do, are passed
    // over without trying to read them as a float.
    starts_like_a_number(text) && reads_as_a_number(text)
}

fn starts_like_a_number(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

fn reads_as_a_number(text: &str) -> bool {
    matches!(
        text,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | "-.Inf" | ".nan" | ".NaN" | ".NAN"
    ) || (text.chars().any(|c| c.is_ascii_digit()) && text.parse::<f64>().is_ok())
        || text
            .strip_prefix('-')
            .map_or(parse_unsigned(text).is_some(), |rest| {
                parse_unsigned(rest).is_some()
            })
}

/// A plain scalar that YAML types as something other than text.
pub(crate) fn is_typed_plain(text: &str) -> bool {
    is_bool(text) || is_number(text)
}

pub(super) fn parse_unsigned(text: &str) -> Option<u64> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok();
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return u64::from_str_radix(octal, 8).ok();
    }
    text.parse().ok()
}

/// How a JSON type is called in messages.
fn type_noun(json_type: &str) -> &'static str {
    match json_type {
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "nothing",
        _ => "a value",
    }
}

/// How the values of a schema definition are called in messages; `None` keeps
/// the name of the key the value was written under.
fn definition_noun(name: &str) -> Option<&'static str> {
    match name {
        "UserSpec" => Some("a user"),
        "GroupSpec" => Some("a user group"),
        "ProfileSpec" => Some("a product profile or admin group"),
        "Settings" => Some("`settings`"),
        "Exclusions" => Some("`settings.exclude`"),
        "Limits" => Some("`settings.limits`"),
        _ => None,
    }
}

/// The hint for a list or mapping where one value belongs.
fn single_value_hint(node: &Node) -> Option<String> {
    match &node.value {
        Value::Sequence(_) => Some("write a single value here, not a list".to_owned()),
        Value::Mapping(_) => Some("write a single value here, not `key: value` pairs".to_owned()),
        Value::Scalar { .. } => None,
    }
}

/// The noun for the entries of the top-level lists, which share item types.
fn list_item_noun(list: &str) -> Option<&'static str> {
    match list {
        "`users`" => Some("a user"),
        "`groups`" => Some("a user group"),
        "`profiles`" => Some("a product profile"),
        "`admin_groups`" => Some("an admin group"),
        _ => None,
    }
}

/// Whether a noun names the kind of thing ("a user group") rather than a place.
fn is_specific(noun: &str) -> bool {
    (noun.starts_with("a ") || noun.starts_with("an ")) && !noun.starts_with("an entry of")
}

/// The JSON types a schema allows, without collecting them.
#[derive(Clone, Copy)]
enum Types<'a> {
    One(&'a str),
    Many(&'a [Schema]),
}

impl<'a> Types<'a> {
    fn of(schema: &'a Schema) -> Option<Self> {
        match schema.get("type")? {
            Schema::String(one) => Some(Types::One(one)),
            Schema::Array(many) => Some(Types::Many(many)),
            _ => None,
        }
    }

    fn iter(self) -> impl Iterator<Item = &'a str> {
        let (one, many) = match self {
            Types::One(one) => (Some(one), &[][..]),
            Types::Many(many) => (None, many),
        };
        one.into_iter()
            .chain(many.iter().filter_map(Schema::as_str))
    }

    fn contains(self, json_type: &str) -> bool {
        self.iter().any(|listed| listed == json_type)
    }
}

impl<'a> Checker<'a> {
    /// Whether `node` is a scalar that `schema` takes as it is, with nothing to
    /// report: the common case, checked without building the nouns for messages.
    /// Anything else gets the full check.
    fn plainly_fits(&self, node: &Node, schema: &Schema) -> bool {
        if matches!(node.value, Value::Mapping(_)) {
            return false;
        }
        let Some(keys) = schema.as_object() else {
            return false;
        };
        if ["$ref", "oneOf", "anyOf", "enum", "const"]
            .iter()
            .any(|key| keys.contains_key(*key))
        {
            return false;
        }
        let Some(types) = Types::of(schema) else {
            return false;
        };
        match &node.value {
            // A list of plain values, like a user's `groups`.
            Value::Sequence(items) => {
                types.contains("array")
                    && keys.get("items").is_some_and(|item_schema| {
                        items
                            .iter()
                            .all(|item| self.plainly_fits(item, item_schema))
                    })
            }
            _ => types
                .iter()
                .any(|json_type| scalar_fits(node, json_type, self.strict)),
        }
    }

    fn report(&mut self, node: &Node, message: String, hint: Option<String>) {
        self.found.push(Diagnostic {
            location: Some(node.mark.in_file(self.file)),
            message,
            hint,
        });
    }

    /// Follows `$ref`s to the schema they name, and the noun for messages (a noun
    /// that already names the thing, like "a user group", is kept).
    fn resolve<'n>(
        &self,
        mut schema: &'a Schema,
        mut noun: Cow<'n, str>,
    ) -> (&'a Schema, Cow<'n, str>) {
        while let Some(reference) = schema.get("$ref").and_then(Schema::as_str) {
            let Some(name) = reference.strip_prefix("#/$defs/") else {
                break;
            };
            match self.root.get("$defs").and_then(|defs| defs.get(name)) {
                Some(target) => {
                    schema = target;
                    if let Some(named) = definition_noun(name)
                        && !is_specific(&noun)
                    {
                        noun = Cow::Borrowed(named);
                    }
                }
                None => break,
            }
        }
        (schema, noun)
    }

    fn check(&mut self, node: &Node, schema: &'a Schema, noun: &str) {
        let Value::Scalar { text, quoted } = &node.value else {
            return self.check_uncached(node, schema, noun);
        };
        let key = Fits::key(schema, *quoted, self.strict);
        if self
            .fits
            .0
            .get(&key)
            .is_some_and(|known| known.contains(text.as_str()))
        {
            return;
        }
        let before = self.found.len();
        self.check_uncached(node, schema, noun);
        if self.found.len() == before {
            self.fits
                .0
                .entry(key)
                .or_default()
                .insert(text.as_str().into());
        }
    }

    fn check_uncached(&mut self, node: &Node, schema: &'a Schema, noun: &str) {
        let (schema, noun) = self.resolve(schema, Cow::Borrowed(noun));
        if let Some(branches) = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Schema::as_array)
        {
            self.check_alternatives(node, schema, branches, &noun);
            return;
        }
        if let Some(values) = schema.get("enum").and_then(Schema::as_array) {
            self.check_enum(node, values, &noun);
            return;
        }
        if let Some(value) = schema.get("const") {
            self.check_enum(node, std::slice::from_ref(value), &noun);
            return;
        }
        let Some(types) = Types::of(schema) else {
            return;
        };
        match &node.value {
            Value::Mapping(_) if types.contains("object") => self.check_object(node, schema, &noun),
            Value::Sequence(items) if types.contains("array") => {
                if let Some(item_schema) = schema.get("items") {
                    if items
                        .iter()
                        .all(|item| self.plainly_fits(item, item_schema))
                    {
                        return;
                    }
                    let item_noun = list_item_noun(&noun)
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("an entry of {noun}"));
                    for item in items {
                        self.check(item, item_schema, &item_noun);
                    }
                }
            }
            // serde_yaml takes an empty value for an empty list or mapping.
            _ if node.is_null() && (types.contains("array") || types.contains("object")) => {}
            _ if types
                .iter()
                .any(|json_type| scalar_fits(node, json_type, self.strict)) => {}
            Value::Scalar {
                text,
                quoted: false,
            } if types.contains("string") && is_typed_plain(text) => {
                self.report(
                    node,
                    format!(
                        "expected text here, found {}, which YAML reads as a number or true/false",
                        node.describe()
                    ),
                    Some(format!("put it in quotes: \"{text}\"")),
                );
            }
            _ => {
                let expected: Vec<&str> = types
                    .iter()
                    .filter(|t| *t != "null")
                    .map(|t| type_noun(t))
                    .collect();
                let hint = if types.contains("array") && node.scalar().is_some() {
                    Some("write a list: `[a, b]`, or one `- entry` per line".to_owned())
                } else if types.contains("object") {
                    Some("write `key: value` pairs, indented under this key".to_owned())
                } else {
                    single_value_hint(node)
                };
                self.report(
                    node,
                    format!(
                        "expected {} here, found {}",
                        expected.join(" or "),
                        node.describe()
                    ),
                    hint,
                );
            }
        }
    }

    fn check_enum(&mut self, node: &Node, values: &[Schema], noun: &str) {
        let allowed: Vec<&str> = values.iter().filter_map(Schema::as_str).collect();
        if let Some(text) = node.scalar()
            && allowed.contains(&text)
        {
            return;
        }
        if node.is_null() && values.iter().any(Schema::is_null) {
            return;
        }
        let hint = node
            .scalar()
            .and_then(|text| suggest::did_you_mean(text, allowed.iter().copied()));
        self.report(
            node,
            format!(
                "{} is not a valid value for {noun}; expected one of: {}",
                node.describe(),
                allowed.join(", ")
            ),
            hint,
        );
    }

    fn check_alternatives(
        &mut self,
        node: &Node,
        schema: &'a Schema,
        branches: &'a [Schema],
        noun: &str,
    ) {
        // `Option<T>`: a null is fine, anything else must be a T.
        let (nulls, others): (Vec<&Schema>, Vec<&Schema>) = branches
            .iter()
            .partition(|branch| branch.get("type").and_then(Schema::as_str) == Some("null"));
        if !nulls.is_empty() && node.is_null() {
            return;
        }
        if let [only] = others.as_slice() {
            self.check(node, only, noun);
            return;
        }
        // A tagged choice (`kind: oauth`): check against the branch the tag selects.
        if let Some((tag, choices)) = self.discriminator(&others) {
            let written = node.get(&tag);
            let chosen = written
                .and_then(Node::scalar)
                .and_then(|text| choices.iter().find(|(value, _)| value == text));
            match (written, chosen) {
                (_, Some((_, branch))) => {
                    let outer = std::mem::replace(&mut self.strict, true);
                    self.check(node, branch, noun);
                    self.strict = outer;
                }
                (Some(written), None) => {
                    let names: Vec<&str> =
                        choices.iter().map(|(value, _)| value.as_str()).collect();
                    let hint = written
                        .scalar()
                        .and_then(|text| suggest::did_you_mean(text, names.iter().copied()));
                    self.report(
                        written,
                        format!(
                            "{} is not a valid `{tag}`; expected one of: {}",
                            written.describe(),
                            names.join(", ")
                        ),
                        hint,
                    );
                }
                (None, None) => {
                    let names: Vec<&str> =
                        choices.iter().map(|(value, _)| value.as_str()).collect();
                    self.report(
                        node,
                        format!("missing `{tag}` in {noun}"),
                        Some(format!("add `{tag}:` with one of: {}", names.join(", "))),
                    );
                }
            }
            return;
        }
        // Unit variants with descriptions (`oneOf` of `const`s) are an enum.
        let constants: Option<Vec<Schema>> = others
            .iter()
            .map(|branch| {
                let (branch, _) = self.resolve(branch, Cow::Borrowed(noun));
                branch
                    .get("const")
                    .cloned()
                    .map(|value| vec![value])
                    .or_else(|| branch.get("enum").and_then(Schema::as_array).cloned())
            })
            .collect::<Option<Vec<_>>>()
            .map(|lists| lists.into_iter().flatten().collect());
        if let Some(values) = constants {
            self.check_enum(node, &values, noun);
            return;
        }
        // Anything else (an untagged enum such as a limit): the first branch that fits.
        // serde buffers the value to try each variant, so plain numbers stay numbers.
        let mut nouns = Vec::new();
        let mut same_shape: Vec<Vec<Diagnostic>> = Vec::new();
        for branch in &others {
            let mut trial = Checker {
                root: self.root,
                file: self.file,
                guard: self.guard,
                found: Vec::new(),
                strict: true,
                fits: Fits::default(),
            };
            trial.check(node, branch, noun);
            if trial.found.is_empty() {
                return;
            }
            let (resolved, _) = self.resolve(branch, Cow::Borrowed(noun));
            if let Some(json_type) = resolved.get("type").and_then(Schema::as_str) {
                nouns.push(type_noun(json_type));
                let shaped = matches!(
                    (&node.value, json_type),
                    (Value::Mapping(_), "object") | (Value::Sequence(_), "array")
                );
                if shaped {
                    same_shape.push(trial.found);
                }
            }
        }
        // A mapping (or list) where only one branch takes one: that branch's own
        // problems say what is wrong inside it, such as a misspelt key.
        if let [found] = same_shape.as_mut_slice() {
            self.found.append(found);
            return;
        }
        self.report(
            node,
            format!(
                "expected {} here, found {}",
                nouns.join(" or "),
                node.describe()
            ),
            single_value_hint(node).or_else(|| {
                // The type's own description says what is accepted.
                schema
                    .get("description")
                    .and_then(Schema::as_str)
                    .map(|description| format!("expected: {description}"))
            }),
        );
    }

    /// The tag property shared by every branch as a `const`, with each branch's value.
    fn discriminator(
        &self,
        branches: &[&'a Schema],
    ) -> Option<(String, Vec<(String, &'a Schema)>)> {
        let first = self.resolve(branches.first()?, Cow::Borrowed("")).0;
        let properties = first.get("properties")?.as_object()?;
        let tag = properties
            .iter()
            .find(|(_, property)| property.get("const").is_some_and(Schema::is_string))
            .map(|(name, _)| name.clone())?;
        let mut choices = Vec::new();
        for branch in branches {
            let (resolved, _) = self.resolve(branch, Cow::Borrowed(""));
            let value = resolved
                .get("properties")?
                .get(&tag)?
                .get("const")?
                .as_str()?
                .to_owned();
            choices.push((value, *branch));
        }
        Some((tag, choices))
    }

    fn check_object(&mut self, node: &Node, schema: &'a Schema, noun: &str) {
        let Value::Mapping(entries) = &node.value else {
            return;
        };
        let properties = schema.get("properties").and_then(Schema::as_object);
        let closed = schema.get("additionalProperties") == Some(&Schema::Bool(false));
        let mut seen: Vec<&Node> = Vec::new();
        for (key, value) in entries {
            let Some(name) = key.scalar() else {
                self.report(
                    key,
                    format!("expected a plain name as a key in {noun}"),
                    None,
                );
                continue;
            };
            if let Some(first) = seen.iter().find(|k| k.scalar() == Some(name)) {
                let first = first.mark.in_file(self.file);
                self.report(
                    key,
                    format!("`{name}` is written twice in {noun} (first at {first})"),
                    Some("keep one of the two".to_owned()),
                );
                continue;
            }
            seen.push(key);
            if let Some((message, hint)) = self.guard.and_then(|guard| guard(name)) {
                self.report(key, message, Some(hint));
                continue;
            }
            match properties.and_then(|properties| properties.get(name)) {
                Some(property) if self.plainly_fits(value, property) => {}
                Some(property) => {
                    let child_noun = format!("`{name}`");
                    self.check(value, property, &child_noun);
                }
                None if closed => {
                    let known: Vec<&str> = properties
                        .into_iter()
                        .flat_map(|properties| properties.keys().map(String::as_str))
                        .collect();
                    let hint = suggest::did_you_mean(name, known.iter().copied())
                        .map(|hint| format!("{hint} ({} takes: {})", noun, known.join(", ")))
                        .unwrap_or_else(|| format!("{} takes: {}", noun, known.join(", ")));
                    self.report(key, format!("unknown key `{name}` in {noun}"), Some(hint));
                }
                None => {}
            }
        }
        for required in schema
            .get("required")
            .and_then(Schema::as_array)
            .into_iter()
            .flatten()
            .filter_map(Schema::as_str)
        {
            if !seen.iter().any(|key| key.scalar() == Some(required)) {
                self.report(
                    node,
                    format!("{noun} needs `{required}`"),
                    Some(format!("add `{required}: …`")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn numbers_start_with_a_digit_a_sign_or_a_point(
            text in prop_oneof![
                "[-+.0-9eExXoOaAfFiInN_ ]{0,8}",
                "(inf|infinity|nan|NaN|Infinity|e5|E1)[0-9]?",
                any::<String>(),
            ],
        ) {
            prop_assert!(!reads_as_a_number(&text) || starts_like_a_number(&text), "{:?}", text);
        }
    }
}
