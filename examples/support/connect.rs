//! How the umapi-core examples get a connection.
//!
//! With `UMAPI_ORG_ID` set, they talk to the org it names:
//!
//! | variable | meaning |
//! |---|---|
//! | `UMAPI_ORG_ID` | the org id (`…@AdobeOrg`) |
//! | `UMAPI_CLIENT_ID`, `UMAPI_CLIENT_SECRET` | the integration's OAuth server-to-server credentials |
//! | `UMAPI_TECH_ACCOUNT_ID`, `UMAPI_PRIVATE_KEY_FILE` | set both to use the legacy JWT exchange instead |
//! | `UMAPI_ENDPOINT`, `UMAPI_IMS_HOST` | optional overrides (e.g. a `umapi sandbox` on another port) |
//! | `UMAPI_TEST_MODE=1` | send actions with `testOnly=true` |
//!
//! Without it, they start an in-process sandbox with a small generated org, so
//! `cargo run --example list_users` works without any credentials.

use std::env;

use anyhow::Context;
use umapi_core::{Connection, JwtCredentials, RateLimits, Secret};
use umapi_sandbox::{OrgSpec, Sandbox, SandboxConfig, SandboxHandle, generate};

/// A connection, and the sandbox it talks to when no org was configured (keep it
/// alive while the connection is used).
pub struct Example {
    /// The connection to use.
    pub conn: Connection,
    /// The in-process sandbox, if the example runs against one.
    pub sandbox: Option<SandboxHandle>,
}

fn var(name: &str) -> anyhow::Result<String> {
    env::var(name).with_context(|| format!("{name} is not set (see examples/support/connect.rs)"))
}

/// Connects as the environment says, or to a fresh sandbox.
pub async fn connect() -> anyhow::Result<Example> {
    if let Ok(org_id) = env::var("UMAPI_ORG_ID") {
        let mut builder = Connection::builder(org_id);
        let client_id = var("UMAPI_CLIENT_ID")?;
        let client_secret = Secret::new(var("UMAPI_CLIENT_SECRET")?);
        builder = match (
            env::var("UMAPI_TECH_ACCOUNT_ID"),
            env::var("UMAPI_PRIVATE_KEY_FILE"),
        ) {
            (Ok(technical_account_id), Ok(key_file)) => {
                let pem = std::fs::read_to_string(&key_file)
                    .with_context(|| format!("cannot read private key file {key_file}"))?;
                builder.jwt(JwtCredentials {
                    client_id,
                    client_secret,
                    technical_account_id,
                    private_key_pem: Secret::new(pem),
                })
            }
            _ => builder.oauth(client_id, client_secret),
        };
        if let Ok(endpoint) = env::var("UMAPI_ENDPOINT") {
            builder = builder.umapi_endpoint(endpoint);
        }
        if let Ok(ims_host) = env::var("UMAPI_IMS_HOST") {
            builder = builder.ims_host(ims_host);
        }
        let test_mode = env::var("UMAPI_TEST_MODE").is_ok_and(|v| v == "1" || v == "true");
        return Ok(Example {
            conn: builder.test_mode(test_mode).build()?,
            sandbox: None,
        });
    }

    let org = generate::org(&OrgSpec {
        users: 25,
        user_groups: 4,
        profiles: 3,
        seed: 7,
    });
    let sandbox = Sandbox::start(SandboxConfig::default(), org).await?;
    eprintln!(
        "(UMAPI_ORG_ID is not set: using an in-process sandbox at {})",
        sandbox.base_url()
    );
    let conn = sandbox
        .connection_builder()
        .rate_limits(RateLimits::unlimited())
        .build()?;
    Ok(Example {
        conn,
        sandbox: Some(sandbox),
    })
}
