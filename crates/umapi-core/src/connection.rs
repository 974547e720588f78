//! The authenticated connection to one org: its builder, and the single path every
//! HTTP request takes (pacing, token, headers, retries, statistics).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use url::Url;

use crate::auth::{CachedToken, Credentials, JwtCredentials};
use crate::error::Error;
use crate::executor::QueuedEntry;
use crate::rate::{EndpointClass, Pacer, RateLimits};
use crate::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use crate::secret::Secret;

/// Adobe's UMAPI endpoint.
pub const DEFAULT_UMAPI_ENDPOINT: &str = "https://usermanagement.adobe.io/v2/usermanagement";
/// Adobe's identity service (IMS).
pub const DEFAULT_IMS_HOST: &str = "https://ims-na1.adobelogin.com";
/// Default timeout of one HTTP request, connection to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// Counters of what the connection did, for tests, benchmarks and progress reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// UMAPI HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Of those, action POSTs.
    pub action_requests: u64,
    /// Token requests sent to IMS (every attempt counts).
    pub token_requests: u64,
    /// Attempts that were retries of an earlier failure.
    pub retries: u64,
    /// Responses with HTTP 429.
    pub throttled: u64,
    /// Sum of the waits the retry policy asked for (`Retry-After` or back-off).
    pub retry_wait_intended: Duration,
    /// Sum of the waits actually slept for retries (differs when the policy caps waits).
    pub retry_wait_slept: Duration,
    /// Time spent waiting to stay under the rate limits.
    pub pacing_wait: Duration,
    /// Action attempts whose outcome is unknown: the connection failed or timed out after
    /// the request went out, so the server may have executed it (and a retry may then meet
    /// the effects of the lost attempt).
    pub unknown_outcomes: u64,
}

/// Builds a [`Connection`]; nothing is sent until the connection is first used.
#[derive(Debug, Clone)]
pub struct ConnectionBuilder {
    org_id: String,
    credentials: Option<Credentials>,
    umapi_endpoint: String,
    ims_host: String,
    timeout: Duration,
    accept_invalid_certs: bool,
    ca_bundle: Option<PathBuf>,
    retry_policy: RetryPolicy,
    rate_limits: RateLimits,
    test_mode: bool,
    user_agent: String,
}

impl ConnectionBuilder {
    /// Authenticate with OAuth server-to-server credentials.
    pub fn oauth(mut self, client_id: impl Into<String>, client_secret: Secret) -> Self {
        self.credentials = Some(Credentials::OAuth {
            client_id: client_id.into(),
            client_secret,
        });
        self
    }

    /// Authenticate with the legacy JWT exchange.
    pub fn jwt(mut self, credentials: JwtCredentials) -> Self {
        self.credentials = Some(Credentials::Jwt(credentials));
        self
    }

    /// The UMAPI base URL (default [`DEFAULT_UMAPI_ENDPOINT`]).
    pub fn umapi_endpoint(mut self, url: impl Into<String>) -> Self {
        self.umapi_endpoint = url.into();
        self
    }

    /// The IMS base URL including the scheme (default [`DEFAULT_IMS_HOST`]).
    pub fn ims_host(mut self, url: impl Into<String>) -> Self {
        self.ims_host = url.into();
        self
    }

    /// Timeout of one HTTP request attempt (default [`DEFAULT_TIMEOUT`]); a timed-out
    /// attempt is retried under the retry policy.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Turns TLS certificate verification off. Unsafe: only for networks that
    /// intercept TLS and where [`ConnectionBuilder::ca_bundle`] is not possible.
    /// A warning is logged when the connection is built.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Also trust the CA certificates in this PEM file (e.g. a TLS-inspecting proxy's).
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// How transient failures are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Per-endpoint pacing (default [`RateLimits::default`], Adobe's limits).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Send actions with `?testOnly=true`: the server validates but changes nothing.
    pub fn test_mode(mut self, test_mode: bool) -> Self {
        self.test_mode = test_mode;
        self
    }

    /// The `User-Agent` header (default `umapi-core/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks the configuration and makes the connection. No network traffic: the
    /// token is fetched on first use. Proxies come from the environment
    /// (`HTTPS_PROXY`, `NO_PROXY`, …).
    pub fn build(self) -> Result<Connection, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config(
                "no credentials: call .oauth(client_id, client_secret) or .jwt(..) on the builder"
                    .into(),
            )
        })?;
        if self.org_id.trim().is_empty() {
            return Err(Error::Config("the org id must not be empty".into()));
        }
        if credentials.client_id().trim().is_empty() {
            return Err(Error::Config("the client id must not be empty".into()));
        }
        let endpoint = parse_base_url("UMAPI endpoint", &self.umapi_endpoint)?;
        parse_base_url("IMS host", &self.ims_host)?;
        if self.retry_policy.max_attempts == 0 {
            return Err(Error::Config(
                "retry policy max_attempts must be at least 1 (1 = no retries)".into(),
            ));
        }

        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(self.user_agent.clone());
        if self.accept_invalid_certs {
            tracing::warn!(
                "TLS certificate verification is OFF: responses could come from anyone on the network path. \
                 Prefer a CA bundle (ca_bundle) for TLS-inspecting proxies."
            );
            http = http.danger_accept_invalid_certs(true);
        }
        if let Some(path) = &self.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!("cannot read CA bundle {}: {e}", path.display()))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Config(format!(
                    "CA bundle {} is not a PEM certificate bundle: {e}",
                    path.display()
                ))
            })?;
            if certificates.is_empty() {
                return Err(Error::Config(format!(
                    "CA bundle {} holds no certificates",
                    path.display()
                )));
            }
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http
            .build()
            .map_err(|e| Error::Http(format!("cannot set up the HTTP client: {e}")))?;

        Ok(Connection {
            inner: Arc::new(Inner {
                org_id: self.org_id,
                endpoint,
                ims_host: self.ims_host.trim_end_matches('/').to_owned(),
                credentials,
                http,
                retry: self.retry_policy,
                pacer: Pacer::new(self.rate_limits),
                test_mode: self.test_mode,
                token: tokio::sync::Mutex::new(None),
                queue: Mutex::new(VecDeque::new()),
                stats: Mutex::new(ConnectionStats::default()),
            }),
        })
    }
}

fn parse_base_url(what: &str, raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim_end_matches('/')).map_err(|e| {
        Error::Config(format!(
            "{what} `{raw}` is not a URL ({e}); expected something like https://host/path"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::Config(format!(
            "{what} `{raw}` must be an http:// or https:// URL"
        )));
    }
    Ok(url)
}

/// An authenticated connection to one org's UMAPI. Cheap to clone; clones share the
/// token, the rate-limit pacing, the action queue and the statistics.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    org_id: String,
    endpoint: Url,
    ims_host: String,
    credentials: Credentials,
    http: reqwest::Client,
    retry: RetryPolicy,
    pacer: Pacer,
    test_mode: bool,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    pub(crate) queue: Mutex<VecDeque<QueuedEntry>>,
    stats: Mutex<ConnectionStats>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Connection")
            .field("org_id", &inner.org_id)
            .field("endpoint", &inner.endpoint.as_str())
            .field("ims_host", &inner.ims_host)
            .field("credentials", &inner.credentials)
            .field("retry", &inner.retry)
            .field("test_mode", &inner.test_mode)
            .finish_non_exhaustive()
    }
}

/// A response the caller has to interpret: a success, or a 404 (which queries read as "empty").
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
    pub(crate) request_id: String,
}

/// Why an attempt failed, when it is worth another.
struct Transient {
    what: String,
    retry_after: Option<Duration>,
}

impl Connection {
    /// Starts building a connection to the org `org_id` (`…@AdobeOrg`).
    pub fn builder(org_id: impl Into<String>) -> ConnectionBuilder {
        ConnectionBuilder {
            org_id: org_id.into(),
            credentials: None,
            umapi_endpoint: DEFAULT_UMAPI_ENDPOINT.to_owned(),
            ims_host: DEFAULT_IMS_HOST.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            accept_invalid_certs: false,
            ca_bundle: None,
            retry_policy: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            test_mode: false,
            user_agent: format!("umapi-core/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The org this connection acts on.
    pub fn org_id(&self) -> &str {
        &self.inner.org_id
    }

    /// Whether actions are sent in test mode (`?testOnly=true`).
    pub fn is_test_mode(&self) -> bool {
        self.inner.test_mode
    }

    /// What the connection did so far.
    pub fn stats(&self) -> ConnectionStats {
        self.inner.stats_lock().clone()
    }

    /// The URL of `segments` under the UMAPI endpoint, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.endpoint.clone();
        {
            // parse_base_url checked that the endpoint can be a base.
            let mut path = url
                .path_segments_mut()
                .expect("endpoint URL was checked to be a base");
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// Sends one UMAPI request with pacing, token, headers and retries. Returns
    /// successes and 404s; every other outcome becomes an error.
    pub(crate) async fn send(
        &self,
        class: EndpointClass,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse, Error> {
        let inner = &self.inner;
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let mut attempts: u32 = 0;
        let mut waited = Duration::ZERO;
        let mut refreshed_after_401 = false;
        loop {
            attempts += 1;
            let paced = inner.pacer.acquire(class).await;
            let token = self.token().await?;
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::AUTHORIZATION, bearer(&token)?)
                .header("x-api-key", inner.credentials.client_id())
                .header(reqwest::header::ACCEPT, "application/json")
                .header("X-Request-Id", &request_id);
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            {
                let mut stats = inner.stats_lock();
                stats.requests += 1;
                stats.pacing_wait += paced;
                if class == EndpointClass::Action {
                    stats.action_requests += 1;
                }
                if attempts > 1 {
                    stats.retries += 1;
                }
            }
            tracing::trace!(%method, %url, request_id, attempt = attempts, "UMAPI request");
            // Only a refused connection proves that the server never saw the request.
            let unknown_outcome = || {
                if class == EndpointClass::Action {
                    inner.stats_lock().unknown_outcomes += 1;
                }
            };
            let failure = match request.send().await {
                Err(e) => {
                    if !e.is_connect() {
                        unknown_outcome();
                    }
                    transport_failure(e)?
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Err(e) => {
                            unknown_outcome();
                            transport_failure(e)?
                        }
                        Ok(body) => {
                            tracing::trace!(
                                request_id,
                                status = status.as_u16(),
                                bytes = body.len(),
                                "UMAPI response"
                            );
                            if status.is_success() || status == StatusCode::NOT_FOUND {
                                return Ok(RawResponse {
                                    status,
                                    headers,
                                    body,
                                    request_id,
                                });
                            }
                            if status == StatusCode::UNAUTHORIZED && !refreshed_after_401 {
                                tracing::debug!(
                                    request_id,
                                    "UMAPI answered 401; refreshing the token once"
                                );
                                refreshed_after_401 = true;
                                self.invalidate_token(&token).await;
                                attempts -= 1;
                                continue;
                            }
                            let code = status.as_u16();
                            if code == 429 {
                                inner.stats_lock().throttled += 1;
                            }
                            if !is_retryable_status(code) {
                                let message = server_message(&body);
                                return Err(if status.is_client_error() {
                                    Error::Request {
                                        status: code,
                                        message,
                                        request_id,
                                    }
                                } else {
                                    Error::Server {
                                        status: code,
                                        message,
                                        request_id,
                                    }
                                });
                            }
                            Transient {
                                what: format!("HTTP {code}: {}", server_message(&body)),
                                retry_after: headers
                                    .get(reqwest::header::RETRY_AFTER)
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| parse_retry_after(v, SystemTime::now())),
                            }
                        }
                    }
                }
            };
            self.wait_before_retry(attempts, &mut waited, started, failure, &request_id)
                .await?;
        }
    }

    /// Sleeps before the next attempt, or gives up when the policy says so.
    async fn wait_before_retry(
        &self,
        attempts: u32,
        waited: &mut Duration,
        started: Instant,
        failure: Transient,
        request_id: &str,
    ) -> Result<(), Error> {
        let policy = &self.inner.retry;
        let give_up = |last: String| Error::Unavailable {
            attempts,
            elapsed: started.elapsed(),
            last,
            request_id: request_id.to_owned(),
        };
        if attempts >= policy.max_attempts {
            return Err(give_up(failure.what));
        }
        let intended = policy.intended_delay(attempts, failure.retry_after);
        if *waited + intended > policy.max_total_wait {
            return Err(give_up(format!(
                "{} (the next wait of {intended:?} would exceed the retry policy's total of {:?})",
                failure.what, policy.max_total_wait
            )));
        }
        *waited += intended;
        let actual = policy.actual_delay(intended);
        {
            let mut stats = self.inner.stats_lock();
            stats.retry_wait_intended += intended;
            stats.retry_wait_slept += actual;
        }
        tracing::warn!(
            request_id,
            "{}; retrying in {:.1}s (attempt {} of {})",
            failure.what,
            actual.as_secs_f64(),
            attempts + 1,
            policy.max_attempts
        );
        tokio::time::sleep(actual).await;
        Ok(())
    }

    /// The cached token, or a new one when there is none or it is close to expiry.
    async fn token(&self) -> Result<Secret, Error> {
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.is_fresh(Instant::now())
        {
            return Ok(token.value.clone());
        }
        let fetched_at = Instant::now();
        let (value, lifetime) = self.fetch_token().await?;
        tracing::debug!(lifetime_s = lifetime.as_secs(), "got an access token");
        *cached = Some(CachedToken::new(value.clone(), lifetime, fetched_at));
        Ok(value)
    }

    /// Forgets the cached token if it is still the one that was rejected.
    async fn invalidate_token(&self, rejected: &Secret) {
        let mut cached = self.inner.token.lock().await;
        if cached.as_ref().is_some_and(|t| &t.value == rejected) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<(Secret, Duration), Error> {
        let inner = &self.inner;
        let started = Instant::now();
        let mut attempts = 0;
        let mut waited = Duration::ZERO;
        let request_id = uuid::Uuid::new_v4().to_string();
        loop {
            attempts += 1;
            let (url, form) = inner
                .credentials
                .token_request(&inner.ims_host, &inner.org_id)?;
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.expose())).collect();
            inner.stats_lock().token_requests += 1;
            tracing::trace!(%url, attempt = attempts, "token request");
            let request = inner
                .http
                .post(&url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form);
            let failure = match request.send().await {
                Err(e) => auth_transport_failure(e)?,
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    match response.bytes().await {
                        Err(e) => auth_transport_failure(e)?,
                        Ok(body) if status.is_success() => {
                            return inner.credentials.parse_token_response(&body);
                        }
                        Ok(body)
                            if is_retryable_status(status.as_u16()) || status.is_server_error() =>
                        {
                            Transient {
                                what: format!(
                                    "identity service HTTP {}: {}",
                                    status.as_u16(),
                                    server_message(&body)
                                ),
                                retry_after,
                            }
                        }
                        Ok(body) => {
                            return Err(Error::Auth {
                                message: format!(
                                    "the identity service at {url} refused the credentials: {}",
                                    server_message(&body)
                                ),
                                status: Some(status.as_u16()),
                            });
                        }
                    }
                }
            };
            self.wait_before_retry(attempts, &mut waited, started, failure, &request_id)
                .await
                .map_err(|e| Error::Auth {
                    // Say which service was out of reach: the token exchange is not UMAPI.
                    message: match e {
                        Error::Unavailable {
                            attempts,
                            elapsed,
                            last,
                            ..
                        } => format!(
                            "the identity service at {url} was unavailable after {attempts} attempts over {elapsed:?}: {last}"
                        ),
                        other => other.to_string(),
                    },
                    status: None,
                })?;
        }
    }
}

impl Inner {
    fn stats_lock(&self) -> std::sync::MutexGuard<'_, ConnectionStats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn bearer(token: &Secret) -> Result<HeaderValue, Error> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| Error::Auth {
            message: "the identity service returned a token that is not a valid header value"
                .into(),
            status: None,
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Classifies a transport error: TLS and request-construction problems and host
/// names that do not resolve are final; everything else (timeouts, refused or
/// dropped connections) is worth a retry.
fn transport_failure(e: reqwest::Error) -> Result<Transient, Error> {
    if e.is_builder() {
        return Err(Error::Http(format!("cannot build the request: {e}")));
    }
    if let Some(dns) = dns_problem(&e) {
        // A misspelt host name does not start resolving a minute later; retrying
        // it only delays the error the user has to fix.
        let host = e
            .url()
            .and_then(|url| url.host_str())
            .unwrap_or("(unknown)");
        return Err(Error::Http(format!(
            "the host name `{host}` did not resolve ({dns}); check the host name in the \
             endpoint URL"
        )));
    }
    if let Some(tls) = tls_problem(&e) {
        return Err(Error::Http(format!(
            "TLS failure: {tls}. If a proxy inspects TLS, pass its CA certificate with ca_bundle"
        )));
    }
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {}", error_chain(&e))
    } else {
        format!("connection failed: {}", error_chain(&e))
    };
    Ok(Transient {
        what,
        retry_after: None,
    })
}

fn auth_transport_failure(e: reqwest::Error) -> Result<Transient, Error> {
    transport_failure(e).map_err(|e| Error::Auth {
        message: e.to_string(),
        status: None,
    })
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The name-resolution failure in an error's chain, as text: hyper-util's
/// connector wraps every resolver error in an error that reads `dns error`.
fn dns_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if cause.to_string() == "dns error" {
            return Some(error_chain(cause));
        }
        source = cause.source();
    }
    None
}

fn tls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.contains("certificate") || text.contains("InvalidCertificate") {
            return Some(text);
        }
        source = cause.source();
    }
    None
}

/// The readable part of an error body: UMAPI's `error_code` and `message` when it
/// sent JSON, else the start of the text.
pub(crate) fn server_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(alias = "errorCode", alias = "error")]
        error_code: Option<String>,
        #[serde(alias = "error_description")]
        message: Option<String>,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        match (parsed.error_code, parsed.message) {
            (Some(code), Some(message)) => return format!("{code}: {message}"),
            (Some(only), None) | (None, Some(only)) => return only,
            (None, None) => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut excerpt: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        excerpt.push('…');
    }
    excerpt
}
