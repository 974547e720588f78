//! The shared state of a running sandbox and the router that serves it; every UMAPI and token
//! request passes one gate that injects faults, checks the token and the API key, applies the
//! rate limits, echoes `X-Request-Id` and records counters and the log.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::config::SandboxConfig;
use crate::faults::{Fault, FaultPlan};
use crate::limits::Limiter;
use crate::lookup::UserIndex;
use crate::observe::{Counters, EndpointClass, Observer, RequestLogEntry};
use crate::state::OrgState;
use crate::{Error, admin, auth, umapi};

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// An access token the sandbox issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub client_id: String,
    pub expires_at: Instant,
}

/// Everything a running sandbox holds; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct SharedState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub config: SandboxConfig,
    pub org: Mutex<OrgState>,
    /// Built on first use from `org`; always locked after `org`.
    pub user_index: Mutex<Option<UserIndex>>,
    pub initial: Mutex<OrgState>,
    pub tokens: Mutex<HashMap<String, IssuedToken>>,
    pub observer: Mutex<Observer>,
    pub faults: Mutex<FaultPlan>,
    pub limiter: Mutex<Limiter>,
    pub rng: Mutex<StdRng>,
    pub persist: Mutex<Option<StateFile>>,
    pub started: Instant,
}

/// The state file being written, and the lock that keeps other sandboxes off it.
pub(crate) struct StateFile {
    path: PathBuf,
    /// Held (with an exclusive lock) as long as the sandbox runs.
    _lock: std::fs::File,
}

impl StateFile {
    /// The lock file of a state file: `<state file>.lock` next to it. The state file itself
    /// cannot carry the lock, because every save replaces it with a new file (a rename).
    fn lock_path(path: &std::path::Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        path.with_file_name(name)
    }

    /// Takes the exclusive lock of `path`, or says who holds it.
    fn open(path: PathBuf) -> Result<StateFile, Error> {
        let lock = Self::lock_path(&path);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|source| Error::StateFile {
                action: "lock",
                path: lock.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(StateFile { path, _lock: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::StateFileLocked { path, lock }),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::StateFile {
                action: "lock",
                path: lock,
                source,
            }),
        }
    }
}

/// Locks a mutex, recovering the data if a panicking holder poisoned it (a test thread that
/// panicked must not take the whole sandbox down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("org_id", &self.0.config.org_id)
            .finish_non_exhaustive()
    }
}

impl SharedState {
    /// A sandbox with this configuration serving `initial` (also the state `reset` returns to).
    pub fn new(config: SandboxConfig, initial: OrgState) -> SharedState {
        let seed = config.seed;
        SharedState(Arc::new(Inner {
            config,
            org: Mutex::new(initial.clone()),
            user_index: Mutex::new(None),
            initial: Mutex::new(initial),
            tokens: Mutex::new(HashMap::new()),
            observer: Mutex::new(Observer::default()),
            faults: Mutex::new(FaultPlan::default()),
            limiter: Mutex::new(Limiter::default()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            persist: Mutex::new(None),
            started: Instant::now(),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.0.config
    }

    /// A copy of the current org.
    pub fn state(&self) -> OrgState {
        lock(&self.0.org).clone()
    }

    /// Replaces the org (and persists it when a state file is set).
    pub fn set_state(&self, state: OrgState) -> Result<(), Error> {
        let mut org = lock(&self.0.org);
        *org = state;
        *lock(&self.0.user_index) = None;
        self.persist_locked(&org)
    }

    /// Returns to the initial org and clears counters, log, faults and rate-limit windows.
    /// Issued tokens stay valid.
    pub fn reset(&self) -> Result<(), Error> {
        let initial = lock(&self.0.initial).clone();
        *lock(&self.0.observer) = Observer::default();
        *lock(&self.0.faults) = FaultPlan::default();
        lock(&self.0.limiter).clear();
        self.set_state(initial)
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        lock(&self.0.observer).counters.clone()
    }

    /// The most recent requests, oldest first.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        lock(&self.0.observer).log.iter().cloned().collect()
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        *lock(&self.0.faults) = plan;
    }

    /// The faults still to come.
    pub fn faults(&self) -> FaultPlan {
        lock(&self.0.faults).clone()
    }

    /// Expires every issued token (the next request of each client gets 401).
    pub fn expire_tokens(&self) {
        lock(&self.0.tokens).clear();
    }

    /// Writes the org to `path` now and after every committed change. The sandbox holds an
    /// exclusive lock on `<path>.lock` while it runs, so that two sandboxes never write one
    /// state file (and lose each other's changes): the second is refused with
    /// [`Error::StateFileLocked`].
    pub fn persist_to(&self, path: impl Into<PathBuf>) -> Result<(), Error> {
        let path = path.into();
        let org = lock(&self.0.org);
        let mut persist = lock(&self.0.persist);
        if persist.as_ref().is_none_or(|current| current.path != path) {
            *persist = Some(StateFile::open(path)?);
        }
        let file = persist.as_ref().expect("set above");
        org.save_atomic(&file.path)
    }

    pub(crate) fn persist_locked(&self, org: &OrgState) -> Result<(), Error> {
        match &*lock(&self.0.persist) {
            Some(file) => org.save_atomic(&file.path),
            None => Ok(()),
        }
    }
}

/// The sandbox's routes: IMS token endpoints, the UMAPI endpoints (behind the gate) and the
/// `/_sandbox/` admin API.
pub fn router(state: SharedState) -> Router {
    let umapi_routes = Router::new()
        .route("/ims/token/v2", post(auth::oauth_token))
        .route("/ims/token/v2/", post(auth::oauth_token))
        .route("/ims/exchange/jwt", post(auth::jwt_exchange))
        .route("/ims/exchange/jwt/", post(auth::jwt_exchange))
        .route("/v2/usermanagement/users/{org}/{page}", get(umapi::users))
        .route(
            "/v2/usermanagement/users/{org}/{page}/{*group}",
            get(umapi::users_in_group),
        )
        .route(
            "/v2/usermanagement/organizations/{org}/users/{*user}",
            get(umapi::one_user),
        )
        .route("/v2/usermanagement/groups/{org}/{page}", get(umapi::groups))
        .route("/v2/usermanagement/action/{org}", post(umapi::action))
        .fallback(umapi::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate));
    Router::new()
        .nest("/_sandbox", admin::routes(state.clone()))
        .merge(umapi_routes)
        .with_state(state)
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn fault_status_response(
    status: u16,
    body: Option<serde_json::Value>,
    retry_after: Option<String>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body.unwrap_or_else(|| {
        if status == StatusCode::TOO_MANY_REQUESTS {
            json!({"error_code": "429050", "message": "Too many requests"})
        } else {
            json!({"error_code": status.as_u16().to_string(), "message": status.canonical_reason().unwrap_or("error")})
        }
    });
    let mut resp = json_response(status, &body);
    if let Some(ra) = retry_after
        && let Ok(v) = HeaderValue::from_str(&ra)
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(reason: &str) -> Response {
    let mut resp = json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error_code": "401013", "message": format!("Oauth token is not valid: {reason}")}),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"umapi-sandbox\", error=\"invalid_token\""),
    );
    resp
}

/// Checks the bearer token and the API key of a UMAPI request; the refusal, if any.
fn credentials_refusal(state: &SharedState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = bearer(headers) else {
        return Some(unauthorized("no bearer token"));
    };
    let issued = lock(&state.0.tokens).get(token).cloned();
    let Some(issued) = issued else {
        return Some(unauthorized("unknown token"));
    };
    if issued.expires_at <= Instant::now() {
        lock(&state.0.tokens).remove(token);
        return Some(unauthorized("token expired"));
    }
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if api_key != Some(issued.client_id.as_str())
        || api_key != Some(state.0.config.client_id.as_str())
    {
        return Some(json_response(
            StatusCode::FORBIDDEN,
            &json!({"error_code": "403003", "message": "Api Key is invalid"}),
        ));
    }
    None
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn gate(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let class = EndpointClass::of_path(req.uri().path());
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.to_string());
    let request_id = header_text(req.headers(), "x-request-id");
    let client_id = header_text(req.headers(), "x-api-key");

    let fault = {
        let mut rng = lock(&state.0.rng);
        lock(&state.0.faults).next(class, &mut *rng)
    };
    let fault_name = fault
        .as_ref()
        .filter(|f| **f != Fault::Pass)
        .map(Fault::name);
    let mut truncate = false;
    let mut delay_after = None;
    let mut rewrite = None;
    let mut response = None;
    match fault {
        Some(Fault::Status {
            status,
            body,
            retry_after,
        }) => {
            response = Some(fault_status_response(status, body, retry_after));
        }
        Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(Fault::Jitter { max_ms }) => {
            let ms = lock(&state.0.rng).random_range(0..=max_ms);
            let scale = state.0.config.time_scale;
            tokio::time::sleep(Duration::from_millis(ms).div_f64(scale)).await;
        }
        Some(Fault::Drop) => {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(DropConnection);
            response = Some(resp);
        }
        Some(Fault::Malformed) => {
            response = Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"result\": \"success\", \"lastPage\": tru",
                )
                    .into_response(),
            );
        }
        Some(Fault::Truncated) => truncate = true,
        Some(Fault::DelayAfter { ms }) => delay_after = Some(Duration::from_millis(ms)),
        Some(Fault::Rewrite { body }) => rewrite = Some(body),
        Some(Fault::ExpireToken) => {
            if let Some(token) = bearer(req.headers()) {
                lock(&state.0.tokens).remove(token);
            }
        }
        Some(Fault::Pass) | None => {}
    }

    let mut rate_limited = false;
    let mut response = match response {
        Some(r) => r,
        None => {
            let guarded = matches!(
                class,
                EndpointClass::Users
                    | EndpointClass::User
                    | EndpointClass::Groups
                    | EndpointClass::Action
            );
            let refusal = if guarded {
                credentials_refusal(&state, req.headers())
            } else {
                None
            };
            match refusal {
                Some(resp) => resp,
                None => {
                    let limited = state.0.config.rate_limits.and_then(|limits| {
                        let client = client_id.clone().unwrap_or_default();
                        lock(&state.0.limiter)
                            .admit(
                                &limits,
                                state.0.config.time_scale,
                                &client,
                                class,
                                Instant::now(),
                            )
                            .err()
                    });
                    match limited {
                        Some(wait) => {
                            rate_limited = true;
                            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                            fault_status_response(429, None, Some(secs.to_string()))
                        }
                        None => next.run(req).await,
                    }
                }
            }
        }
    };
    if let Some(body) = rewrite {
        response = json_response(StatusCode::OK, &body);
    }
    if truncate {
        response = truncate_body(response).await;
    }
    if let Some(wait) = delay_after {
        tokio::time::sleep(wait).await;
    }
    if let Some(id) = &request_id
        && let Ok(v) = HeaderValue::from_str(id)
    {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = if response.extensions().get::<DropConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    {
        let mut observer = lock(&state.0.observer);
        if rate_limited {
            observer.counters.rate_limited += 1;
        }
        observer.record(
            RequestLogEntry {
                seq: 0,
                at_ms: started.duration_since(state.0.started).as_millis() as u64,
                method,
                path,
                endpoint: class,
                status,
                request_id,
                client_id,
                fault: fault_name,
                duration_ms: started.elapsed().as_millis() as u64,
            },
            state.0.config.request_log_capacity,
        );
    }
    response
}

/// Keeps status and headers (including the full `Content-Length`) but sends only the first
/// half of the body, then fails the body stream so the server aborts the connection.
async fn truncate_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    use futures::StreamExt;
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(half) });
    // The pause lets hyper flush the head and the first half before the failure aborts the
    // connection; failing at once would discard the buffered response unsent.
    let failure = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::other("sandbox fault: truncated body"))
    });
    Response::from_parts(parts, Body::from_stream(first.chain(failure)))
}
