//! Reading and checking the raw JSON of action entries: step errors and the error codes
//! UMAPI documents for each malformed or invalid value.

use serde_json::{Map, Value};
use umapi_core::protocol::{self, Violation, ViolationKind};
use umapi_core::wire::ActionError;

/// A failed step.
#[derive(Debug)]
pub(super) struct StepError {
    pub step: usize,
    pub code: &'static str,
    pub message: String,
}

impl StepError {
    pub(super) fn into_wire(self, index: usize, entry: &Value) -> ActionError {
        let text = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
        ActionError {
            index: Some(index),
            step: Some(self.step),
            request_id: text("requestID"),
            user: text("user"),
            usergroup: text("usergroup"),
            error_code: self.code.into(),
            message: self.message,
        }
    }
}

pub(super) type StepResult = Result<(), StepError>;

pub(super) fn fail(step: usize, code: &'static str, message: impl Into<String>) -> StepError {
    StepError {
        step,
        code,
        message: message.into(),
    }
}

/// An add that would take a product profile over its licence quota: `(profile, seats it
/// would use, quota)`. Adobe's error list names no code for it; this is the one it gives
/// for an add that fails otherwise (ErrorRef.md, error.internal.add: "add: Operation
/// failed for unknown reason."), and the message says why. Nothing in the step changes.
pub(super) fn quota_exceeded(at: usize, (profile, seats, quota): (String, u64, u64)) -> StepError {
    fail(
        at,
        QUOTA_EXCEEDED,
        format!(
            "License quota exceeded for product profile {profile}: the add needs {seats} \
             licenses, the quota is {quota}"
        ),
    )
}

/// The code of an add refused for want of a licence (see [`quota_exceeded`]).
pub const QUOTA_EXCEEDED: &str = "error.internal.add";

/// A protocol rule broken in step `at`, answered with `code`.
fn broken(at: usize, code: &'static str, violation: Violation) -> StepError {
    fail(at, code, violation.message)
}

/// Appends the names of one `add`/`remove` list (`"key": ["name", …]`) of step `at`; anything
/// but an array of non-empty strings is refused with `invalid_item_code`, as UMAPI does.
pub(super) fn push_names(
    into: &mut Vec<String>,
    key: &str,
    value: &Value,
    at: usize,
    invalid_item_code: &'static str,
) -> StepResult {
    let Some(items) = value.as_array() else {
        return Err(fail(
            at,
            "error.command.add_remove.list_not_array",
            format!("the value of `{key}` must be a JSON array"),
        ));
    };
    for item in items {
        match item.as_str() {
            Some(name) if !name.is_empty() => into.push(name.to_string()),
            _ => {
                return Err(fail(at, invalid_item_code, "lists hold non-empty strings"));
            }
        }
    }
    Ok(())
}

/// The one key of a step object and its value.
pub(super) fn step_parts(step: &Value, at: usize) -> Result<(&str, &Value), StepError> {
    match step.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().expect("one key");
            Ok((k.as_str(), v))
        }
        _ => Err(fail(
            at,
            "error.command.illegal_entry",
            "each step must be a JSON object with exactly one key",
        )),
    }
}

pub(super) fn optional_string<'v>(
    map: &'v Map<String, Value>,
    field: &str,
    at: usize,
) -> Result<Option<&'v str>, StepError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(fail(
            at,
            "error.command.create.string_expected",
            format!("the value of `{field}` must be a JSON string"),
        )),
    }
}

/// ErrorRef.md, `error.user.email.invalid`: "more than 60 characters long, missing @, or
/// contains illegal character".
pub(super) fn check_email(email: &str, at: usize) -> StepResult {
    protocol::check_email(email).map_err(|v| broken(at, "error.user.email.invalid", v))
}

/// ErrorRef.md, `error.command.string.too_long`: "Maximum is 250 characters."
pub(super) fn check_name_field(value: Option<&str>, field: &str, at: usize) -> StepResult {
    match value {
        Some(v) => protocol::check_person_name(field, v)
            .map_err(|v| broken(at, "error.command.string.too_long", v)),
        None => Ok(()),
    }
}

pub(super) fn check_country(country: Option<&str>, at: usize) -> StepResult {
    match country {
        Some(c) => protocol::check_country(c).map_err(|v| broken(at, "error.country.invalid", v)),
        None => Ok(()),
    }
}

/// The name of a user group to create or rename to. ErrorRef.md documents no code of its
/// own for it: a name that is too long gets `error.command.add_remove.group_or_product_name_too_long`
/// ("Name of a group or product profile is too long."), an empty or reserved (`_…`) name
/// `error.command.illegal_entry` ("A command operation is not legal.").
pub(super) fn check_user_group_name(name: &str, at: usize) -> StepResult {
    protocol::check_user_group_name(name).map_err(|v| {
        let code = match v.kind {
            ViolationKind::TooLong => "error.command.add_remove.group_or_product_name_too_long",
            _ => "error.command.illegal_entry",
        };
        broken(at, code, v)
    })
}

/// What a create step does when its target exists.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CreateOption {
    Error,
    Ignore,
    Update,
}

pub(super) fn create_option(
    map: &Map<String, Value>,
    at: usize,
) -> Result<CreateOption, StepError> {
    match optional_string(map, "option", at)? {
        None | Some("errorIfAlreadyExists") => Ok(CreateOption::Error),
        Some("ignoreIfAlreadyExists") => Ok(CreateOption::Ignore),
        Some("updateIfAlreadyExists") => Ok(CreateOption::Update),
        Some(other) => Err(fail(
            at,
            "error.option.illegal",
            format!("illegal option `{other}` (ignoreIfAlreadyExists or updateIfAlreadyExists)"),
        )),
    }
}

pub(super) fn is_user_create(key: &str) -> bool {
    matches!(
        key,
        "createFederatedID" | "createEnterpriseID" | "addAdobeID"
    )
}

/// `_org_admin` named in a membership step. ActionsCmds.md: "you cannot assign or remove
/// the administrative role `_org_admin`"; ErrorRef.md has no code of its own for it, so the
/// step gets `error.command.illegal_entry` ("A command operation is not legal.").
pub(super) fn reserved_group(at: usize, name: &str) -> StepError {
    fail(
        at,
        "error.command.illegal_entry",
        format!("membership of {name} cannot be assigned or removed through the API"),
    )
}
