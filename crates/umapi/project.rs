//! The project a command works on: `umapi.yaml`, its state files, and the
//! connection to the org it describes (an Adobe org, or the embedded sandbox).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use umapi_core::{Connection, JwtCredentials, RateLimits, RetryPolicy};
use umapi_sandbox::{OrgSpec, OrgState, Sandbox, SandboxConfig, SandboxHandle};
use umapi_sync::config::{self, Config, ConnectionOptions, RetryConfig, SandboxConnection};
use umapi_sync::model::DesiredState;
use umapi_sync::planner::PlanOptions;
use umapi_sync::snapshot::{ReadProgress, Snapshot};

use crate::output_file::Inputs;

/// Name of the sandbox's state file when `umapi.yaml` names none.
pub const DEFAULT_SANDBOX_STATE: &str = "sandbox-state.json";

/// A loaded `umapi.yaml`.
pub struct Project {
    /// The configuration.
    pub config: Config,
}

/// A connection to the org, and the embedded sandbox serving it if there is one.
pub struct Org {
    /// The client connection.
    pub conn: Connection,
    sandbox: Option<SandboxHandle>,
}

impl Org {
    /// Reads the org's users and groups.
    pub async fn snapshot(
        &self,
        mut progress: impl FnMut(ReadProgress),
    ) -> anyhow::Result<Snapshot> {
        Snapshot::read(&self.conn, &mut progress)
            .await
            .map_err(|error| {
                let context = match &error {
                    umapi_sync::Error::Api(umapi_core::Error::Auth {
                        status: Some(400..=403),
                        ..
                    }) => {
                        "could not sign in to read the org (check `client_id` in umapi.yaml and \
                         the UMAPI_CLIENT_SECRET environment variable)"
                    }
                    _ => "could not read the org through UMAPI",
                };
                anyhow::Error::new(error).context(context)
            })
    }

    /// Stops the embedded sandbox, if any, after its state was written.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

impl Project {
    /// Reads and checks `umapi.yaml` (no credentials needed).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            bail!(
                "configuration file `{}` does not exist\n  hint: run umapi in the folder that holds umapi.yaml, \
                 or name the file with `-c FILE` (try `-c examples/quickstart/umapi.yaml`)",
                path.display()
            );
        }
        let config = Config::load(path).map_err(anyhow::Error::from)?;
        if matches!(config.connection, config::Connection::Jwt(_)) {
            tracing::warn!(
                "{}: `kind: jwt` uses a JWT service-account credential; Adobe retired those on \
                 2025-06-30, so the token exchange may be refused. Create an OAuth \
                 server-to-server credential for the same Developer Console project and write \
                 `kind: oauth` (org_id and client_id as before; technical_account_id and the \
                 private key are no longer needed)",
                path.display()
            );
        }
        Ok(Self { config })
    }

    /// The desired state from the configured state files.
    pub fn desired_state(&self) -> anyhow::Result<DesiredState> {
        Ok(self.config.load_state()?)
    }

    /// The desired state, loaded on a blocking thread while `read` (reading the
    /// org) runs: the YAML parse is CPU-bound and the read mostly waits on the
    /// network, so together they take about as long as the longer of the two.
    ///
    /// Errors are reported as if the two ran one after the other, load first:
    /// a desired-state error wins over any read error, and when the load fails
    /// first the unfinished read is dropped (no further requests are sent).
    /// With the embedded sandbox the two run one after the other.
    pub async fn desired_state_while<T>(
        &self,
        read: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<(DesiredState, T)> {
        if matches!(self.config.connection, config::Connection::Sandbox(_)) {
            // The embedded sandbox writes its state file as it starts, and that file
            // then wins over the seed file: a run stopped by a desired-state error
            // must not leave one behind. Its orgs are small, so nothing is lost.
            let desired = self.desired_state()?;
            return Ok((desired, read.await?));
        }
        let config = self.config.clone();
        let mut load = tokio::task::spawn_blocking(move || config.load_state());
        let mut read = std::pin::pin!(read);
        tokio::select! {
            loaded = &mut load => {
                let desired = joined(loaded)?;
                Ok((desired, read.await?))
            }
            read_result = &mut read => {
                let desired = joined(load.await)?;
                Ok((desired, read_result?))
            }
        }
    }

    /// Whether every configured state path exists (a plan file may be applied without them).
    pub fn has_state_files(&self) -> bool {
        self.config.state.iter().all(|path| path.exists())
    }

    /// The files and folders a run reads, which no output of umapi may replace:
    /// `umapi.yaml`, the state paths, the sandbox's seed and state files, and the
    /// JWT private key and CA bundle files named in `umapi.yaml`.
    pub fn inputs(&self) -> Inputs {
        let mut inputs = Inputs::default();
        inputs.file(&self.config.path, "the configuration file");
        for path in &self.config.state {
            inputs.state_path(path);
        }
        let options = match &self.config.connection {
            config::Connection::Sandbox(sandbox) => {
                if let Some(seed) = &sandbox.seed_file {
                    inputs.file(seed, "the sandbox seed file");
                }
                inputs.file(&self.sandbox_state_file(sandbox), "the sandbox state file");
                None
            }
            config::Connection::Oauth(oauth) => Some(&oauth.options),
            config::Connection::Jwt(jwt) => {
                if let Some(key) = &jwt.private_key_file {
                    inputs.file(key, "the private key file");
                }
                Some(&jwt.options)
            }
        };
        if let Some(bundle) = options.and_then(|options| options.ca_bundle.as_ref()) {
            inputs.file(bundle, "the CA bundle");
        }
        inputs
    }

    /// Where the embedded sandbox keeps the org between runs.
    fn sandbox_state_file(&self, settings: &SandboxConnection) -> PathBuf {
        settings
            .state_file
            .clone()
            .unwrap_or_else(|| self.base_dir().join(DEFAULT_SANDBOX_STATE))
    }

    /// The folder `umapi.yaml` lives in.
    pub fn base_dir(&self) -> PathBuf {
        match self.config.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Planner options matching the connection's pacing.
    pub fn plan_options(&self) -> PlanOptions {
        let actions_per_minute = match &self.config.connection {
            config::Connection::Sandbox(_) => None,
            config::Connection::Oauth(oauth) => actions_per_minute(&oauth.options),
            config::Connection::Jwt(jwt) => actions_per_minute(&jwt.options),
        };
        PlanOptions {
            action_requests_per_minute: actions_per_minute,
            ..PlanOptions::default()
        }
    }

    /// Connects to the org; for a `sandbox` connection, starts the sandbox first.
    /// Secrets are read from the environment here, and only here.
    pub async fn connect(&self, test_mode: bool) -> anyhow::Result<Org> {
        let user_agent = concat!("umapi/", env!("CARGO_PKG_VERSION"));
        match &self.config.connection {
            config::Connection::Sandbox(sandbox) => {
                let handle = self.start_sandbox(sandbox).await?;
                let conn = handle
                    .connection_builder()
                    .rate_limits(RateLimits::unlimited())
                    .test_mode(test_mode)
                    .user_agent(user_agent)
                    .build()
                    .context("could not set up the connection to the embedded sandbox")?;
                Ok(Org {
                    conn,
                    sandbox: Some(handle),
                })
            }
            config::Connection::Oauth(oauth) => {
                let secret = config::client_secret(config::process_env)?;
                let builder = Connection::builder(&oauth.org_id).oauth(&oauth.client_id, secret);
                let conn = with_options(builder, &oauth.options)
                    .test_mode(test_mode)
                    .user_agent(user_agent)
                    .build()
                    .context("could not set up the UMAPI connection")?;
                Ok(Org {
                    conn,
                    sandbox: None,
                })
            }
            config::Connection::Jwt(jwt) => {
                let credentials = JwtCredentials {
                    client_id: jwt.client_id.clone(),
                    client_secret: config::client_secret(config::process_env)?,
                    technical_account_id: jwt.technical_account_id.clone(),
                    private_key_pem: jwt.private_key(config::process_env)?,
                };
                let builder = Connection::builder(&jwt.org_id).jwt(credentials);
                let conn = with_options(builder, &jwt.options)
                    .test_mode(test_mode)
                    .user_agent(user_agent)
                    .build()
                    .context("could not set up the UMAPI connection")?;
                Ok(Org {
                    conn,
                    sandbox: None,
                })
            }
        }
    }

    /// Starts the embedded sandbox from its state file (or seed file, or an empty
    /// org) and makes it write its state back after every change.
    async fn start_sandbox(&self, settings: &SandboxConnection) -> anyhow::Result<SandboxHandle> {
        let state_file = self.sandbox_state_file(settings);
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
        let handle = Sandbox::start(sandbox_config, initial)
            .await
            .context("could not start the embedded sandbox")?;
        handle.persist_to(&state_file).with_context(|| {
            format!(
                "could not write the sandbox state to `{}`",
                state_file.display()
            )
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
) -> anyhow::Result<OrgState> {
    if let Some(state) = state_file.filter(|path| path.exists()) {
        return OrgState::load(state)
            .with_context(|| format!("could not read the sandbox state `{}`", state.display()));
    }
    if let Some(seed) = seed_file {
        return OrgState::load(seed)
            .with_context(|| format!("could not read the sandbox seed `{}`", seed.display()));
    }
    Ok(generated
        .map(|spec| umapi_sandbox::generate::org(&spec))
        .unwrap_or_default())
}

/// The result of the blocking load task; a panic there stays a panic.
fn joined(
    loaded: Result<Result<DesiredState, umapi_sync::Error>, tokio::task::JoinError>,
) -> anyhow::Result<DesiredState> {
    match loaded {
        Ok(desired) => Ok(desired?),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(anyhow::Error::new(error).context("loading the desired state stopped")),
    }
}

fn actions_per_minute(options: &ConnectionOptions) -> Option<u32> {
    Some(
        options
            .rate_limits
            .as_ref()
            .and_then(|limits| limits.actions_per_minute)
            .unwrap_or(10),
    )
}

fn with_options(
    mut builder: umapi_core::ConnectionBuilder,
    options: &ConnectionOptions,
) -> umapi_core::ConnectionBuilder {
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
    if let Some(limits) = &options.rate_limits {
        let defaults = RateLimits::default();
        builder = builder.rate_limits(RateLimits {
            users: limits.users_per_minute.or(defaults.users),
            groups: limits.groups_per_minute.or(defaults.groups),
            actions: limits.actions_per_minute.or(defaults.actions),
            window: defaults.window,
        });
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
}
