//! From `umapi.yaml` to a live connection: the client built from the connection's
//! settings (credentials, endpoints, TLS, pacing, retries) and, for `kind: sandbox`,
//! the embedded sandbox started to serve it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use umapi_core::{
    Connection as Client, ConnectionBuilder, JwtCredentials, RateLimits, RetryPolicy,
};
use umapi_sandbox::{OrgSpec, OrgState, RateLimitConfig, Sandbox, SandboxConfig, SandboxHandle};

use crate::config::{
    self, Config, Connection, ConnectionOptions, RetryConfig, SandboxConnection, SandboxRateLimits,
};
use crate::error::Error;
use crate::planner::PlanOptions;

/// Name of the embedded sandbox's state file when `umapi.yaml` names none.
pub const DEFAULT_SANDBOX_STATE: &str = "sandbox-state.json";

/// A connection to the org, and the embedded sandbox serving it if there is one.
#[derive(Debug)]
pub struct Connected {
    /// The client connection.
    pub client: Client,
    /// The embedded sandbox (`kind: sandbox`), which stops when dropped or shut down.
    pub sandbox: Option<SandboxHandle>,
}

impl Config {
    /// Connects to the org; for a `sandbox` connection, starts the sandbox first.
    /// Secrets are read from the environment (through `env`) here, and only here.
    pub async fn connect(
        &self,
        test_mode: bool,
        user_agent: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Connected, Error> {
        let (builder, sandbox, what) = match &self.connection {
            Connection::Sandbox(settings) => {
                let handle = self.start_sandbox(settings).await?;
                let builder = handle.connection_builder();
                (
                    builder,
                    Some(handle),
                    "could not set up the connection to the embedded sandbox",
                )
            }
            Connection::Oauth(oauth) => {
                let secret = config::client_secret(&env)?;
                let builder = Client::builder(&oauth.org_id).oauth(&oauth.client_id, secret);
                (
                    with_options(builder, &oauth.options),
                    None,
                    "could not set up the UMAPI connection",
                )
            }
            Connection::Jwt(jwt) => {
                let credentials = JwtCredentials {
                    client_id: jwt.client_id.clone(),
                    client_secret: config::client_secret(&env)?,
                    technical_account_id: jwt.technical_account_id.clone(),
                    private_key_pem: jwt.private_key(&env)?,
                };
                let builder = Client::builder(&jwt.org_id).jwt(credentials);
                (
                    with_options(builder, &jwt.options),
                    None,
                    "could not set up the UMAPI connection",
                )
            }
        };
        let client = builder
            .rate_limits(self.rate_limits())
            .test_mode(test_mode)
            .user_agent(user_agent)
            .build()
            .map_err(|source| Error::Connect { what, source })?;
        Ok(Connected { client, sandbox })
    }

    /// The pacing the connection keeps: Adobe's limits (or those written under
    /// `rate_limits`) with their margin, scaled by `time_scale`; for the sandbox,
    /// none unless it enforces Adobe's limits.
    pub fn rate_limits(&self) -> RateLimits {
        match &self.connection {
            Connection::Sandbox(sandbox) => match sandbox.rate_limits {
                Some(SandboxRateLimits::Adobe) => {
                    RateLimits::default().time_scaled(sandbox.time_scale.unwrap_or(1.0))
                }
                Some(SandboxRateLimits::Off) | None => RateLimits::unlimited(),
            },
            Connection::Oauth(oauth) => options_rate_limits(&oauth.options),
            Connection::Jwt(jwt) => options_rate_limits(&jwt.options),
        }
    }

    /// Planner options from the configuration: the packing sizes, and a duration
    /// estimate that follows the connection's pacing.
    pub fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            pacing: self.rate_limits(),
            packing: self.packing,
            sources_root: Some(match self.path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            }),
            ..PlanOptions::default()
        }
    }

    /// Where the embedded sandbox keeps the org between runs (`None` for Adobe).
    pub fn sandbox_state_file(&self) -> Option<PathBuf> {
        let Connection::Sandbox(settings) = &self.connection else {
            return None;
        };
        Some(settings.state_file.clone().unwrap_or_else(|| {
            let base = match self.path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            base.join(DEFAULT_SANDBOX_STATE)
        }))
    }

    /// Starts the embedded sandbox from its state file (or seed file, or an empty
    /// org) and makes it write its state back after every change.
    async fn start_sandbox(&self, settings: &SandboxConnection) -> Result<SandboxHandle, Error> {
        let state_file = self
            .sandbox_state_file()
            .expect("the connection is a sandbox");
        let initial = initial_org(Some(&state_file), settings.seed_file.as_deref(), None)?;
        let mut sandbox_config = SandboxConfig {
            port: settings.port.unwrap_or(0),
            ..SandboxConfig::default()
        };
        if let Some(size) = settings.user_page_size {
            sandbox_config.user_page_size = size;
        }
        if let Some(size) = settings.group_page_size {
            sandbox_config.group_page_size = size;
        }
        sandbox_config.max_names_per_entry = settings.memberships_per_entry;
        if settings.rate_limits == Some(SandboxRateLimits::Adobe) {
            sandbox_config.rate_limits = Some(RateLimitConfig::default());
            sandbox_config.time_scale = settings.time_scale.unwrap_or(1.0);
        }
        let handle = Sandbox::start(sandbox_config, initial)
            .await
            .map_err(|source| Error::Sandbox {
                what: "could not start the embedded sandbox".to_owned(),
                source,
            })?;
        handle
            .persist_to(&state_file)
            .map_err(|source| Error::Sandbox {
                what: format!(
                    "could not write the sandbox state to `{}`",
                    state_file.display()
                ),
                source,
            })?;
        tracing::info!(url = %handle.base_url(), state = %state_file.display(), "embedded sandbox started");
        Ok(handle)
    }
}

/// The org a sandbox starts with: the state file if it exists, else the seed
/// file, else a generated org of `generated` size, else an empty org.
pub fn initial_org(
    state_file: Option<&Path>,
    seed_file: Option<&Path>,
    generated: Option<OrgSpec>,
) -> Result<OrgState, Error> {
    let load = |path: &Path, what: &str| {
        OrgState::load(path).map_err(|source| Error::Sandbox {
            what: format!("could not read the sandbox {what} `{}`", path.display()),
            source,
        })
    };
    if let Some(state) = state_file.filter(|path| path.exists()) {
        return load(state, "state");
    }
    if let Some(seed) = seed_file {
        return load(seed, "seed");
    }
    Ok(generated
        .map(|spec| umapi_sandbox::generate::org(&spec))
        .unwrap_or_default())
}

/// Adobe's limits with the overrides written under `rate_limits`; `Config::load`
/// has checked the numbers.
fn options_rate_limits(options: &ConnectionOptions) -> RateLimits {
    let defaults = RateLimits::default();
    let Some(limits) = &options.rate_limits else {
        return defaults;
    };
    RateLimits {
        users: limits.users_per_minute.or(defaults.users),
        groups: limits.groups_per_minute.or(defaults.groups),
        actions: limits.actions_per_minute.or(defaults.actions),
        margin: limits
            .margin_seconds
            .and_then(config::seconds)
            .unwrap_or(defaults.margin),
        ..defaults
    }
    .time_scaled(limits.time_scale.unwrap_or(1.0))
}

fn with_options(mut builder: ConnectionBuilder, options: &ConnectionOptions) -> ConnectionBuilder {
    if let Some(url) = &options.ims_host {
        builder = builder.ims_host(url);
    }
    if let Some(url) = &options.umapi_endpoint {
        builder = builder.umapi_endpoint(url);
    }
    if let Some(seconds) = options.timeout_seconds {
        builder = builder.timeout(Duration::from_secs(seconds));
    }
    if let Some(bundle) = &options.ca_bundle {
        builder = builder.ca_bundle(bundle);
    }
    if options.tls_verify == Some(false) {
        tracing::warn!("TLS certificate verification is off (tls_verify: false in umapi.yaml)");
        builder = builder.danger_accept_invalid_certs(true);
    }
    if let Some(retry) = &options.retry {
        builder = builder.retry_policy(retry_policy(retry));
    }
    builder
}

/// The client's retry policy with the fields `umapi.yaml` sets; `Config::load`
/// has checked the numbers, so an unreadable one cannot reach here (it would
/// keep the default).
fn retry_policy(retry: &RetryConfig) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    let or_default =
        |value: Option<f64>, default| value.and_then(config::seconds).unwrap_or(default);
    RetryPolicy {
        max_attempts: retry.max_attempts.unwrap_or(defaults.max_attempts),
        initial_backoff: or_default(retry.initial_backoff_seconds, defaults.initial_backoff),
        max_backoff: or_default(retry.max_backoff_seconds, defaults.max_backoff),
        max_total_wait: or_default(retry.max_total_wait_seconds, defaults.max_total_wait),
        ..defaults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_block_overrides_only_the_fields_it_sets() {
        assert_eq!(
            retry_policy(&RetryConfig::default()),
            RetryPolicy::default()
        );
        let policy = retry_policy(&RetryConfig {
            max_attempts: Some(2),
            initial_backoff_seconds: Some(0.5),
            max_backoff_seconds: None,
            max_total_wait_seconds: Some(90.0),
        });
        assert_eq!(
            policy,
            RetryPolicy {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(500),
                max_total_wait: Duration::from_secs(90),
                ..RetryPolicy::default()
            }
        );
    }

    fn config(text: &str) -> Config {
        Config::from_text(Path::new("umapi.yaml"), text).unwrap()
    }

    #[test]
    fn pacing_follows_the_connection() {
        let oauth = "connection: {kind: oauth, org_id: A@AdobeOrg, client_id: c";
        assert_eq!(
            config(&format!("{oauth}}}")).rate_limits(),
            RateLimits::default()
        );
        let tuned = config(&format!(
            "{oauth}, rate_limits: {{actions_per_minute: 5, margin_seconds: 0.5, time_scale: 2}}}}"
        ))
        .rate_limits();
        assert_eq!(tuned.actions, Some(5));
        assert_eq!(tuned.users, Some(25));
        assert_eq!(tuned.window, Duration::from_secs(30));
        assert_eq!(tuned.margin, Duration::from_millis(250));
        assert_eq!(
            config("connection: {kind: sandbox}").rate_limits(),
            RateLimits::unlimited()
        );
        assert_eq!(
            config("connection: {kind: sandbox, rate_limits: adobe, time_scale: 60}").rate_limits(),
            RateLimits::default().time_scaled(60.0)
        );
    }
}
