//! The project a command works on: `umapi.yaml`, its state files, and the
//! connection to the org it describes (an Adobe org, or the embedded sandbox).

use std::path::{Path, PathBuf};

use anyhow::bail;
use umapi_core::Connection;
use umapi_sandbox::SandboxHandle;
use umapi_sync::config::{self, Config};
use umapi_sync::current::{ReadProgress, Snapshot};
use umapi_sync::desired::DesiredState;
use umapi_sync::planner::PlanOptions;

use crate::output_file::Inputs;

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

    /// Logs what the connection sent (at `-v`) and stops the embedded sandbox, if any,
    /// after its state was written.
    pub async fn close(self) {
        let stats = self.conn.stats();
        tracing::info!(
            "UMAPI requests: {} ({} action), {} answered 429, {:.1} s waited for the rate limits",
            stats.requests,
            stats.action_requests,
            stats.throttled,
            stats.pacing_wait.as_secs_f64()
        );
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
                 or name the file with `-c FILE`; to try umapi without an Adobe account, write a \
                 umapi.yaml with `connection: {{kind: sandbox}}`",
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
                if let Some(state_file) = self.config.sandbox_state_file() {
                    inputs.file(&state_file, "the sandbox state file");
                }
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

    /// The folder `umapi.yaml` lives in.
    pub fn base_dir(&self) -> PathBuf {
        match self.config.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Planner options matching the connection's pacing.
    pub fn plan_options(&self) -> anyhow::Result<PlanOptions> {
        Ok(PlanOptions {
            today: Some(today()?),
            expiring_days: umapi_sync::expiry::DEFAULT_EXPIRING_DAYS,
            ..self.config.plan_options()
        })
    }

    /// Connects to the org; for a `sandbox` connection, starts the sandbox first.
    /// Secrets are read from the environment here, and only here.
    pub async fn connect(&self, test_mode: bool) -> anyhow::Result<Org> {
        let user_agent = concat!("umapi/", env!("CARGO_PKG_VERSION"));
        let connected = self
            .config
            .connect(test_mode, user_agent, config::process_env)
            .await?;
        Ok(Org {
            conn: connected.client,
            sandbox: connected.sandbox,
        })
    }
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

/// The day (UTC) that `until` dates are compared with: today, or the day in
/// `UMAPI_TODAY` (`YYYY-MM-DD`), a testing aid that plans as if it were that day.
pub fn today() -> anyhow::Result<jiff::civil::Date> {
    match std::env::var("UMAPI_TODAY") {
        Ok(text) => umapi_sync::expiry::parse_day(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "UMAPI_TODAY=`{text}` is not a date\n  hint: write it as YYYY-MM-DD, like \
                 UMAPI_TODAY=2026-12-31, or unset it to use today's date (UTC)"
            )
        }),
        Err(_) => Ok(jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()),
    }
}
