//! The batching executor: queues the entries of actions, sends them at most
//! [`MAX_ENTRIES_PER_REQUEST`] to a request, and maps the server's per-step errors
//! back to the actions they came from.
//!
//! A batch that fails as a whole (rejected, or UMAPI unavailable after retries)
//! records the failure on every action in it and the executor goes on with the next
//! batch; the caller learns about all failures together at the end, as
//! [`Error::Batch`], with the details on the actions (`execution_errors()`).

use reqwest::{Method, StatusCode};

use crate::action::{Action, ExecutionError, MAX_ENTRIES_PER_REQUEST, command_at};
use crate::connection::Connection;
use crate::error::Error;
use crate::rate::EndpointClass;
use crate::wire::{ActionResponse, Entry};

/// What an execute call did, counted in actions (an action split into several
/// entries counts once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutionCounts {
    /// Actions waiting in the connection's queue after the call.
    pub queued: usize,
    /// Actions whose last entry was sent during the call.
    pub sent: usize,
    /// Of those, the actions without any error.
    pub succeeded: usize,
}

/// One wire entry waiting to be sent, with the action it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct QueuedEntry {
    action: Action,
    entry: Entry,
    /// True on the action's last entry: sending it completes the action.
    last_of_action: bool,
    /// How many execution errors the action had when it was queued.
    errors_before: usize,
}

fn queue_entries(action: &Action) -> Vec<QueuedEntry> {
    let entries = action.entries();
    let count = entries.len();
    let errors_before = action.errors().len();
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| QueuedEntry {
            action: action.clone(),
            entry,
            last_of_action: i + 1 == count,
            errors_before,
        })
        .collect()
}

/// Actions completed by a set of sent entries, and how many of them failed.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    failed: usize,
}

impl Tally {
    fn count(&mut self, sent: &[QueuedEntry]) {
        for queued in sent.iter().filter(|q| q.last_of_action) {
            self.sent += 1;
            if queued.action.errors().len() > queued.errors_before {
                self.failed += 1;
            }
        }
    }

    fn finish(self, queued: usize) -> Result<ExecutionCounts, Error> {
        if self.failed > 0 {
            return Err(Error::Batch {
                sent: self.sent,
                failed: self.failed,
            });
        }
        Ok(ExecutionCounts {
            queued,
            sent: self.sent,
            succeeded: self.sent - self.failed,
        })
    }
}

/// Failures no later batch can avoid: stop instead of repeating them.
fn is_fatal(error: &Error) -> bool {
    matches!(
        error,
        Error::Auth { .. } | Error::Config(_) | Error::Http(_)
    )
}

/// The code recorded on actions when their whole request failed.
fn request_failure_code(error: &Error) -> String {
    match error {
        Error::Request { status, .. } => format!("error.request.http_{status}"),
        Error::Server { status, .. } => format!("error.server.http_{status}"),
        Error::Unavailable { .. } => "error.unavailable".to_owned(),
        Error::Auth { .. } => "error.auth".to_owned(),
        _ => "error.client".to_owned(),
    }
}

impl Connection {
    /// Sends one raw action request (at most [`MAX_ENTRIES_PER_REQUEST`] entries),
    /// paced, retried and in test mode if the connection is. The response is
    /// returned as the server sent it, step errors included.
    pub async fn post_actions(&self, entries: &[Entry]) -> Result<ActionResponse, Error> {
        if entries.len() > MAX_ENTRIES_PER_REQUEST {
            return Err(Error::Argument(format!(
                "an action request holds at most {MAX_ENTRIES_PER_REQUEST} entries, not {}",
                entries.len()
            )));
        }
        let body = serde_json::to_vec(entries)
            .map_err(|e| Error::Argument(format!("cannot encode the action entries: {e}")))?;
        let mut url = self.url(&["action", self.org_id()]);
        if self.is_test_mode() {
            url.query_pairs_mut().append_pair("testOnly", "true");
        }
        let response = self
            .send(EndpointClass::Action, Method::POST, url, Some(body))
            .await?;
        if response.status == StatusCode::NOT_FOUND {
            return Err(Error::Request {
                status: 404,
                message: crate::connection::server_message(&response.body),
                request_id: response.request_id,
            });
        }
        serde_json::from_slice(&response.body).map_err(|e| Error::Server {
            status: response.status.as_u16(),
            message: format!("unreadable action response: {e}"),
            request_id: response.request_id,
        })
    }

    /// Queues an action; sends full batches, or everything queued if `immediate`.
    pub async fn execute_single(
        &self,
        action: impl Into<Action>,
        immediate: bool,
    ) -> Result<ExecutionCounts, Error> {
        self.execute_multiple([action.into()], immediate).await
    }

    /// Queues actions; sends everything queued if `immediate`, else only full batches.
    pub async fn execute_multiple<I, A>(
        &self,
        actions: I,
        immediate: bool,
    ) -> Result<ExecutionCounts, Error>
    where
        I: IntoIterator<Item = A>,
        A: Into<Action>,
    {
        let entries: Vec<QueuedEntry> = actions
            .into_iter()
            .map(Into::into)
            .flat_map(|action| queue_entries(&action))
            .collect();
        self.queue_lock().extend(entries);
        self.flush(immediate).await
    }

    /// Sends everything queued.
    pub async fn execute_queued(&self) -> Result<ExecutionCounts, Error> {
        self.flush(true).await
    }

    /// Sends exactly these actions as one request, bypassing the queue.
    pub async fn execute_batch(&self, actions: &[Action]) -> Result<ExecutionCounts, Error> {
        let batch: Vec<QueuedEntry> = actions.iter().flat_map(queue_entries).collect();
        if batch.len() > MAX_ENTRIES_PER_REQUEST {
            return Err(Error::Argument(format!(
                "these actions need {} entries, more than the {MAX_ENTRIES_PER_REQUEST} of one request",
                batch.len()
            )));
        }
        let mut tally = Tally::default();
        if !batch.is_empty() {
            self.send_batch(&batch).await?;
            tally.count(&batch);
        }
        tally.finish(self.queued_actions())
    }

    fn queue_lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<QueuedEntry>> {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn queued_actions(&self) -> usize {
        self.queue_lock()
            .iter()
            .filter(|q| q.last_of_action)
            .count()
    }

    async fn flush(&self, everything: bool) -> Result<ExecutionCounts, Error> {
        let mut tally = Tally::default();
        loop {
            let batch: Vec<QueuedEntry> = {
                let mut queue = self.queue_lock();
                let full = queue.len() >= MAX_ENTRIES_PER_REQUEST;
                if queue.is_empty() || !(full || everything) {
                    break;
                }
                let take = queue.len().min(MAX_ENTRIES_PER_REQUEST);
                queue.drain(..take).collect()
            };
            let outcome = self.send_batch(&batch).await;
            tally.count(&batch);
            outcome?;
        }
        tally.finish(self.queued_actions())
    }

    /// Sends one batch and records every failure on the actions. Returns an error
    /// only for failures that would repeat on every later batch.
    async fn send_batch(&self, batch: &[QueuedEntry]) -> Result<(), Error> {
        let entries: Vec<Entry> = batch.iter().map(|q| q.entry.clone()).collect();
        match self.post_actions(&entries).await {
            Ok(response) => {
                record_response(batch, &response);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(entries = batch.len(), %error, "action request failed");
                let code = request_failure_code(&error);
                for queued in batch {
                    queued.action.errors().push(ExecutionError {
                        target: queued.action.target().to_owned(),
                        command: None,
                        request_id: queued.action.request_id().map(str::to_owned),
                        error_code: code.clone(),
                        message: error.to_string(),
                    });
                }
                if is_fatal(&error) { Err(error) } else { Ok(()) }
            }
        }
    }
}

/// Maps the response's errors to the entries (by `index`, else by `requestID` or
/// target) and the commands (by `step`) they are about.
fn record_response(batch: &[QueuedEntry], response: &ActionResponse) {
    let request_failed = response.result.starts_with("error.") && response.errors.is_empty();
    if request_failed {
        for queued in batch {
            queued.action.errors().push(ExecutionError {
                target: queued.action.target().to_owned(),
                command: None,
                request_id: queued.action.request_id().map(str::to_owned),
                error_code: response.result.clone(),
                message: "the server rejected the whole request".to_owned(),
            });
        }
        return;
    }
    for error in &response.errors {
        let by_index = error.index.and_then(|i| batch.get(i));
        let by_identity = || {
            batch.iter().find(|q| {
                let same_request = error.request_id.is_some()
                    && error.request_id.as_deref() == q.action.request_id();
                let target = error.user.as_deref().or(error.usergroup.as_deref());
                same_request
                    || target.is_some_and(|t| t.eq_ignore_ascii_case(entry_target(&q.entry)))
            })
        };
        let Some(queued) = by_index.or_else(by_identity) else {
            tracing::warn!(
                code = error.error_code,
                "the server reported an error for an entry that is not in the request"
            );
            continue;
        };
        queued.action.errors().push(ExecutionError {
            target: queued.action.target().to_owned(),
            command: error.step.and_then(|step| command_at(&queued.entry, step)),
            request_id: error
                .request_id
                .clone()
                .or_else(|| queued.action.request_id().map(str::to_owned)),
            error_code: error.error_code.clone(),
            message: error.message.clone(),
        });
    }
}

fn entry_target(entry: &Entry) -> &str {
    match entry {
        Entry::User(e) => &e.user,
        Entry::UserGroup(e) => &e.usergroup,
    }
}
