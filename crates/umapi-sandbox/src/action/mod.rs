//! The action endpoint's semantics: a JSON array of user and user-group entries whose steps
//! change the org, with UMAPI's limits, error codes (each carrying the entry's `index` and the
//! step's `step`) and test mode. [`OrgState::execute`] runs the same rules on an in-memory
//! org without HTTP.
//!
//! The rules live in three parts: [`validate`] reads and checks the raw JSON, `user` runs user
//! entries and `group` runs user-group entries.
//!
//! Entries are read from raw JSON rather than the shared wire types, so that the sandbox can be
//! as lenient as UMAPI where clients differ (legacy list names, both lists in one group step)
//! and can answer a malformed entry with the error code UMAPI gives instead of rejecting the
//! whole request.

mod group;
mod user;
pub mod validate;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::Value;
use umapi_core::protocol;
use umapi_core::wire::{ActionResponse, Entry};

use crate::lookup::UserIndex;
use crate::state::OrgState;
use validate::{StepResult, fail};

/// The limits UMAPI applies to one request ([`Default`]: UMAPI's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    /// Entries per request.
    pub max_entries: usize,
    /// Steps per entry.
    pub max_steps: usize,
    /// Names per list.
    pub max_list_length: usize,
    /// Names (memberships) per entry, across all its `add` and `remove` steps; `None`
    /// for no such limit. Adobe's action documentation reads "a maximum of 10
    /// memberships in one command entry", which may mean this rather than 10 per list.
    pub max_names_per_entry: Option<usize>,
}

impl Default for ActionLimits {
    fn default() -> Self {
        ActionLimits {
            max_entries: protocol::MAX_ENTRIES_PER_REQUEST,
            max_steps: protocol::MAX_STEPS_PER_ENTRY,
            max_list_length: protocol::MAX_NAMES_PER_LIST,
            max_names_per_entry: None,
        }
    }
}

/// How [`OrgState::execute`] runs a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecOptions {
    /// Run the entries in an order shuffled with this seed (UMAPI does not promise to run
    /// them in request order); `None` runs them in request order.
    pub shuffle_seed: Option<u64>,
    /// Validate only, as `?testOnly=true` does: nothing changes.
    pub test_only: bool,
    /// The request limits.
    pub limits: ActionLimits,
}

impl OrgState {
    /// Runs one action request against this org with the sandbox's rules, without HTTP:
    /// the response UMAPI would give, or the rejection of the whole request (what the
    /// endpoint answers with HTTP 400).
    ///
    /// ```
    /// use umapi_core::wire::{Entry, GroupList, UserEntry, UserStep};
    /// use umapi_sandbox::action::ExecOptions;
    /// use umapi_sandbox::generate::{OrgSpec, org};
    ///
    /// let mut state = org(&OrgSpec { users: 3, user_groups: 1, profiles: 1, seed: 1 });
    /// let email = state.users[0].email.clone();
    /// let group = state.user_groups[0].name.clone();
    /// let entry = Entry::User(UserEntry {
    ///     user: email,
    ///     domain: None,
    ///     use_adobe_id: None,
    ///     request_id: None,
    ///     steps: vec![UserStep::Add(GroupList::Groups { group: vec![group] })],
    /// });
    /// let response = state.execute(&[entry], ExecOptions::default()).unwrap();
    /// assert_eq!((response.result.as_str(), response.completed), ("success", 1));
    /// ```
    pub fn execute(
        &mut self,
        entries: &[Entry],
        options: ExecOptions,
    ) -> Result<ActionResponse, RequestRejected> {
        let body = serde_json::to_value(entries).map_err(|e| RequestRejected {
            code: "error.command.malformed",
            message: e.to_string(),
        })?;
        let mut order: Vec<usize> = (0..entries.len()).collect();
        if let Some(seed) = options.shuffle_seed {
            order.shuffle(&mut StdRng::seed_from_u64(seed));
        }
        let mut index = UserIndex::build(&self.users);
        execute(
            self,
            &mut index,
            &body,
            options.limits,
            options.test_only,
            &order,
        )
        .map(|outcome| outcome.response)
    }
}

/// A request that UMAPI rejects as a whole (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejected {
    /// The `result` code, e.g. `error.command.malformed`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl std::fmt::Display for RequestRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request rejected with {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RequestRejected {}

/// What one action request did.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// The response body.
    pub response: ActionResponse,
    /// Whether the org changed (and must be persisted).
    pub changed: bool,
    /// Entries in the request.
    pub entries: usize,
    /// Steps in the request.
    pub steps: usize,
}

/// Runs one action request against `state`, keeping `index` (built from `state.users`) in step. `order` is the order in which entries execute
/// (a permutation of their indexes); errors always carry the entries' original indexes.
pub fn execute(
    state: &mut OrgState,
    index: &mut UserIndex,
    body: &Value,
    limits: ActionLimits,
    test_mode: bool,
    order: &[usize],
) -> Result<ActionOutcome, RequestRejected> {
    let entries = match body {
        Value::Array(a) if !a.is_empty() => a,
        Value::Array(_) => {
            return Err(RequestRejected {
                code: "error.command.malformed",
                message: "the request body is an empty JSON array".into(),
            });
        }
        _ => {
            return Err(RequestRejected {
                code: "error.command.malformed",
                message: "the request body must be a JSON array of commands".into(),
            });
        }
    };
    if entries.len() > limits.max_entries {
        return Err(RequestRejected {
            code: "error.command.malformed",
            message: format!(
                "too many commands: {} (at most {} per request)",
                entries.len(),
                limits.max_entries
            ),
        });
    }
    let steps = entries
        .iter()
        .map(|e| e.get("do").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    let mut run = Run {
        state,
        index,
        limits,
        test_mode,
        changed: false,
        warnings: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut ok = 0;
    let indexes: Vec<usize> = if order.len() == entries.len() {
        order.to_vec()
    } else {
        (0..entries.len()).collect()
    };
    for index in indexes {
        let entry = &entries[index];
        match run.entry(index, entry) {
            Ok(()) => ok += 1,
            Err(e) => errors.push(e.into_wire(index, entry)),
        }
    }
    errors.sort_by_key(|e| (e.index, e.step));
    run.warnings
        .sort_by_key(|w| w.get("index").and_then(Value::as_u64));
    let failed = errors.len();
    let result = if failed == 0 {
        "success"
    } else if ok == 0 {
        "error"
    } else {
        "partial"
    };
    Ok(ActionOutcome {
        response: ActionResponse {
            completed: if test_mode { 0 } else { ok },
            not_completed: failed,
            completed_in_test_mode: if test_mode { ok } else { 0 },
            result: result.into(),
            errors,
            warnings: run.warnings,
        },
        changed: run.changed,
        entries: entries.len(),
        steps,
    })
}

/// One request being run: the org, its user index kept in step, and what happened so far.
struct Run<'a> {
    state: &'a mut OrgState,
    index: &'a mut UserIndex,
    limits: ActionLimits,
    test_mode: bool,
    changed: bool,
    warnings: Vec<Value>,
}

impl Run<'_> {
    /// Runs one entry: its shape is checked here, then the user or user-group rules run it.
    fn entry(&mut self, index: usize, entry: &Value) -> StepResult {
        let Some(obj) = entry.as_object() else {
            return Err(fail(
                0,
                "error.command.malformed",
                "each command must be a JSON object",
            ));
        };
        let steps = match obj.get("do") {
            Some(Value::Array(steps)) => steps,
            _ => {
                return Err(fail(
                    0,
                    "error.command.steps.malformed",
                    "the value of `do` must be a JSON array of steps",
                ));
            }
        };
        if steps.len() > self.limits.max_steps {
            return Err(fail(
                self.limits.max_steps,
                "error.command.add_remove.list_too_long",
                format!(
                    "too many steps: {} (at most {} per command)",
                    steps.len(),
                    self.limits.max_steps
                ),
            ));
        }
        if let Some(rid) = obj.get("requestID")
            && !rid.is_string()
        {
            return Err(fail(
                0,
                "error.command.string_expected",
                "requestID must be a string",
            ));
        }
        match (obj.get("user"), obj.get("usergroup")) {
            (Some(Value::String(user)), _) => self.user_entry(index, obj, user, steps),
            (Some(_), _) => Err(fail(
                0,
                "error.command.string_expected",
                "user must be a string",
            )),
            (None, Some(Value::String(group))) => self.group_entry(index, obj, group, steps),
            (None, Some(_)) => Err(fail(
                0,
                "error.command.string_expected",
                "usergroup must be a string",
            )),
            (None, None) => Err(fail(
                0,
                "error.command.user_usergroup.missing",
                "each command needs a `user` or a `usergroup`",
            )),
        }
    }
}

/// The names an `add` or `remove` step lists (0 for other steps).
fn names_in_step(step: &Value) -> usize {
    ["add", "remove"]
        .iter()
        .filter_map(|key| step.get(key)?.as_object())
        .flat_map(|lists| lists.values())
        .filter_map(Value::as_array)
        .map(Vec::len)
        .sum()
}

impl Run<'_> {
    /// Counts the names of the step about to run against
    /// [`ActionLimits::max_names_per_entry`]; the steps before it have run.
    fn count_names(&self, total: &mut usize, step: &Value, at: usize) -> StepResult {
        let Some(max) = self.limits.max_names_per_entry else {
            return Ok(());
        };
        *total += names_in_step(step);
        if *total > max {
            return Err(fail(
                at,
                "error.command.add_remove.list_too_long",
                format!("too many memberships in one command: at most {max}"),
            ));
        }
        Ok(())
    }
}
