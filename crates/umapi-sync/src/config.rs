//! `umapi.yaml`: how to reach the org, where the state files are, and (optionally)
//! the settings.
//!
//! The file is committed to git, so it never holds a secret: the client secret and
//! the private key come from environment variables ([`CLIENT_SECRET_VAR`],
//! [`PRIVATE_KEY_VAR`], [`PRIVATE_KEY_FILE_VAR`]), and a secret-looking key or value
//! in the file is an error. Paths in the file are relative to the file. Problems are
//! reported like the state files' (`file:line:column: what is wrong` with a hint).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use umapi_core::Secret;

use crate::desired::{self, DesiredState, ExternalSettings, Location, Node, Settings, Step};
use crate::error::{Diagnostic, Error};
use crate::planner::{MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY, Packing};

/// The environment variable holding the OAuth (or JWT) client secret.
pub const CLIENT_SECRET_VAR: &str = "UMAPI_CLIENT_SECRET";
/// The environment variable holding the JWT private key itself (PEM text).
pub const PRIVATE_KEY_VAR: &str = "UMAPI_PRIVATE_KEY";
/// The environment variable naming a file that holds the JWT private key.
pub const PRIVATE_KEY_FILE_VAR: &str = "UMAPI_PRIVATE_KEY_FILE";

/// The loaded configuration, with every path made absolute (or relative to the
/// working directory, if the config path was).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// How to reach the org.
    pub connection: Connection,
    /// State files and folders (default: `state` next to the config file).
    pub state: Vec<PathBuf>,
    /// Settings written in `umapi.yaml`, if any.
    pub settings: Option<ExternalSettings>,
    /// The record of write-only values umapi last wrote (default
    /// `.umapi-written.json` next to the config file; see [`crate::written`]).
    pub write_only_cache: PathBuf,
    /// Packing sizes (default: the protocol maxima).
    pub packing: Packing,
    /// Where each `state:` entry was written (empty when defaulted).
    state_locations: Vec<Location>,
}

/// The contents of `umapi.yaml` as written (the source of its JSON Schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// How to reach the org.
    pub connection: Connection,
    /// State files and folders, relative to this file (default `["state"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Vec<PathBuf>>,
    /// Settings; if written here, no state file may hold them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// The file that records the write-only values (group descriptions and profile
    /// links) umapi last wrote, so that unchanged ones are not sent again; relative to
    /// this file (default `.umapi-written.json`). Losing it only costs requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_only_cache: Option<PathBuf>,
    /// How many names, steps and entries umapi puts in one step, entry and action
    /// request (default: the most UMAPI accepts, 10 of each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packing: Option<PackingConfig>,
}

/// Packing sizes; omitted ones keep the maximum, 10. Lower them if the server
/// refuses entries as too long (umapi also re-packs such entries by itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackingConfig {
    /// Names in one `add`/`remove` list (users of a group, groups or profiles of a user), 1 to 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names_per_step: Option<usize>,
    /// Steps in one command entry, 1 to 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_per_entry: Option<usize>,
    /// Command entries in one action request, 1 to 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries_per_request: Option<usize>,
}

/// How to reach the org, chosen by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Connection {
    /// OAuth server-to-server credentials (the method Adobe recommends).
    Oauth(OauthConnection),
    /// Legacy service-account (JWT) credentials.
    Jwt(JwtConnection),
    /// The local sandbox, started in-process: no Adobe account needed.
    Sandbox(SandboxConnection),
}

/// An OAuth server-to-server connection. The client secret comes from
/// `UMAPI_CLIENT_SECRET`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OauthConnection {
    /// The org id, like `12345678ABCDEF@AdobeOrg`.
    pub org_id: String,
    /// The client id (API key) of the Developer Console project.
    pub client_id: String,
    /// Tuning and overrides shared by both Adobe connection kinds.
    #[serde(flatten)]
    pub options: ConnectionOptions,
}

/// A JWT (service account) connection. The client secret comes from
/// `UMAPI_CLIENT_SECRET`; the private key from `UMAPI_PRIVATE_KEY` (PEM text),
/// `UMAPI_PRIVATE_KEY_FILE`, or `private_key_file`, in that order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtConnection {
    /// The org id, like `12345678ABCDEF@AdobeOrg`.
    pub org_id: String,
    /// The client id (API key).
    pub client_id: String,
    /// The technical account id, like `ABCDEF@techacct.adobe.com`.
    pub technical_account_id: String,
    /// A file holding the private key (PEM), relative to `umapi.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<PathBuf>,
    /// Tuning and overrides shared by both Adobe connection kinds.
    #[serde(flatten)]
    pub options: ConnectionOptions,
}

/// Overrides and tuning of a connection to Adobe; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionOptions {
    /// IMS base URL (default `https://ims-na1.adobelogin.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ims_host: Option<String>,
    /// UMAPI base URL (default `https://usermanagement.adobe.io/v2/usermanagement`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umapi_endpoint: Option<String>,
    /// Timeout of one HTTP request, in seconds (default: the client's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Extra CA certificates (PEM file) to trust, relative to `umapi.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// Verify TLS certificates (default `true`; turn off only for a test proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// Requests per minute (default: Adobe's published limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimitsConfig>,
    /// How failed requests are retried (default: the client's retry policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
}

/// Requests per minute per kind of call; omitted ones keep Adobe's limits
/// (users 25, groups 5, actions 10). Requests are spaced a minute plus
/// `margin_seconds` apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// User queries per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_per_minute: Option<u32>,
    /// Group queries per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_per_minute: Option<u32>,
    /// Action requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_per_minute: Option<u32>,
    /// Seconds added to the minute between a request and the one a limit later, so
    /// that requests delayed on the way to Adobe still arrive under the limit
    /// (default 3; 0 paces exactly a minute apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_seconds: Option<f64>,
    /// How many times faster than real time the server's minute runs, to rehearse
    /// against `umapi sandbox --rate-limits adobe --time-scale N` (default 1: Adobe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<f64>,
}

/// How often and how long to retry a request that failed for a transient reason
/// (throttling, gateway errors, timeouts, refused connections); omitted fields
/// keep the client's defaults (6 attempts, 2 s back-off doubling up to 60 s,
/// 30 minutes of waiting at most).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Tries per request, the first included (1 = never retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Wait before the second try when the server says nothing, in seconds;
    /// doubled for every further try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_backoff_seconds: Option<f64>,
    /// Cap of the doubling wait, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_seconds: Option<f64>,
    /// Give up when the waits of one request would add up to more, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_total_wait_seconds: Option<f64>,
}

impl RetryConfig {
    /// The `*_seconds` fields, by key.
    fn durations(&self) -> [(&'static str, Option<f64>); 3] {
        [
            ("initial_backoff_seconds", self.initial_backoff_seconds),
            ("max_backoff_seconds", self.max_backoff_seconds),
            ("max_total_wait_seconds", self.max_total_wait_seconds),
        ]
    }
}

/// A number of seconds as a duration; `None` unless it is 0 or more and fits.
pub fn seconds(value: f64) -> Option<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value).ok()
}

/// The local sandbox, seeded from one file and persisting to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxConnection {
    /// The org to start from (sandbox JSON state), relative to `umapi.yaml`; used
    /// when `state_file` does not exist yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_file: Option<PathBuf>,
    /// Where the sandbox keeps the org between runs, relative to `umapi.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_file: Option<PathBuf>,
    /// Loopback port to listen on (default: any free port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Users per page of user queries (default 2000, like UMAPI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_page_size: Option<usize>,
    /// Groups per page of group queries (default 400, like UMAPI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_page_size: Option<usize>,
    /// Rate limits the sandbox enforces, and umapi paces under (default `off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<SandboxRateLimits>,
    /// How many times faster than real time the sandbox's minute runs, with
    /// `rate_limits: adobe` (60 = a minute lasts a second; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<f64>,
    /// Memberships the sandbox accepts in one command entry, across all its `add`
    /// and `remove` steps (the strict reading of Adobe's "a maximum of 10 memberships
    /// in one command entry"); default: no such limit, only 10 names per list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships_per_entry: Option<usize>,
}

/// Which rate limits the embedded sandbox enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxRateLimits {
    /// None: every request is answered at once.
    Off,
    /// Adobe's published limits: 25 user, 5 group and 10 action requests per minute.
    Adobe,
}

/// Keys that name a secret; they must never be written in `umapi.yaml`.
const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "private_key",
    "private_key_pem",
    "private_key_data",
    "access_token",
    "token",
    "password",
    "passphrase",
    "api_secret",
    "jwt",
    "bearer",
];

/// The environment variable that replaces a secret key.
fn variable_for(key: &str) -> &'static str {
    if key.contains("private_key") || key.contains("passphrase") {
        PRIVATE_KEY_VAR
    } else {
        CLIENT_SECRET_VAR
    }
}

fn secret_key_guard(key: &str) -> Option<(String, String)> {
    let normal = key.to_lowercase().replace('-', "_");
    let secret = SECRET_KEYS.contains(&normal.as_str())
        || normal.ends_with("_secret")
        || normal.ends_with("_password")
        || normal.ends_with("_token");
    secret.then(|| {
        let variable = variable_for(&normal);
        (
            format!("`{key}` is a secret and must not be written in umapi.yaml"),
            format!(
                "remove it and set the environment variable {variable} instead \
                 (secrets never go in files that are committed)"
            ),
        )
    })
}

impl Config {
    /// Reads and checks `umapi.yaml` at `path`. Needs no credentials: secrets are
    /// read from the environment only when connecting.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_text(path, &text)
    }

    /// Checks config `text` as if read from `path` (relative paths in it are
    /// resolved against `path`'s folder).
    pub fn from_text(path: &Path, text: &str) -> Result<Config, Error> {
        let invalid = |problems: Vec<Diagnostic>| Error::Invalid(problems);
        let root = desired::parse_tree(path, text)
            .map_err(|problem| invalid(vec![problem]))?
            .filter(|root| !root.is_null())
            .ok_or_else(|| {
                invalid(vec![Diagnostic {
                    location: Some(Location {
                        file: path.to_path_buf(),
                        line: 1,
                        column: 1,
                    }),
                    message: "umapi.yaml is empty".to_owned(),
                    hint: Some(
                        "write at least `connection:` with a `kind` (oauth, jwt or sandbox)"
                            .to_owned(),
                    ),
                }])
            })?;
        let mut problems = Vec::new();
        secret_values(&root, path, &mut problems);
        problems.extend(desired::check_shape(
            &config_schema(),
            &root,
            path,
            "umapi.yaml",
            Some(&secret_key_guard),
        ));
        if !problems.is_empty() {
            desired::sort(&mut problems);
            return Err(invalid(problems));
        }
        let file: ConfigFile = desired::typed_parse(path, text).map_err(invalid)?;
        let at = |steps: &[Step<'_>]| root.mark_at(steps).in_file(path);
        problems.extend(check_connection(&file.connection, &at));
        if let Some(settings) = &file.settings {
            problems.extend(crate::desired::check_settings(settings, |steps| {
                let mut full = vec![Step::Key("settings")];
                full.extend_from_slice(steps);
                at(&full)
            }));
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |relative: &Path| base.join(relative);
        let mut connection = file.connection;
        match &mut connection {
            Connection::Oauth(oauth) => resolve_options(&mut oauth.options, &resolve),
            Connection::Jwt(jwt) => {
                resolve_options(&mut jwt.options, &resolve);
                jwt.private_key_file = jwt.private_key_file.as_deref().map(resolve);
            }
            Connection::Sandbox(sandbox) => {
                sandbox.seed_file = sandbox.seed_file.as_deref().map(resolve);
                sandbox.state_file = sandbox.state_file.as_deref().map(resolve);
                if let Some(seed) = &sandbox.seed_file
                    && !seed.is_file()
                {
                    problems.push(Diagnostic {
                        location: Some(at(&[Step::Key("connection"), Step::Key("seed_file")])),
                        message: format!("seed file `{}` does not exist", seed.display()),
                        hint: Some("paths in umapi.yaml are relative to umapi.yaml".to_owned()),
                    });
                }
            }
        }
        let packing = packing_sizes(file.packing.as_ref(), &at, &mut problems);
        let (state, state_locations) = match &file.state {
            Some(paths) => (
                paths.iter().map(|p| resolve(p)).collect(),
                (0..paths.len())
                    .map(|index| at(&[Step::Key("state"), Step::Index(index)]))
                    .collect(),
            ),
            None => (vec![resolve(Path::new("state"))], Vec::new()),
        };
        if !problems.is_empty() {
            desired::sort(&mut problems);
            return Err(invalid(problems));
        }
        let settings = file.settings.map(|settings| ExternalSettings {
            settings,
            location: root.key_mark("settings").unwrap_or(root.mark).in_file(path),
        });
        let write_only_cache = resolve(
            file.write_only_cache
                .as_deref()
                .unwrap_or(Path::new(crate::written::DEFAULT_WRITTEN_FILE)),
        );
        Ok(Config {
            path: path.to_path_buf(),
            connection,
            state,
            settings,
            write_only_cache,
            packing,
            state_locations,
        })
    }

    /// Loads the desired state from the configured paths, with the settings of
    /// `umapi.yaml` if it has any.
    pub fn load_state(&self) -> Result<DesiredState, Error> {
        let mut missing = Vec::new();
        for (index, path) in self.state.iter().enumerate() {
            if !path.exists() {
                missing.push(Diagnostic {
                    location: self.state_locations.get(index).cloned(),
                    message: format!("state path `{}` does not exist", path.display()),
                    hint: Some(if self.state_locations.is_empty() {
                        "create the `state` folder next to umapi.yaml, or list the state files \
                         under `state:` in umapi.yaml"
                            .to_owned()
                    } else {
                        "paths in umapi.yaml are relative to umapi.yaml".to_owned()
                    }),
                });
            }
        }
        if !missing.is_empty() {
            return Err(Error::Invalid(missing));
        }
        desired::load_with_settings(&self.state, self.settings.as_ref())
    }
}

/// The packing sizes written, each checked against the protocol's maximum.
fn packing_sizes(
    written: Option<&PackingConfig>,
    at: &impl Fn(&[Step<'_>]) -> Location,
    problems: &mut Vec<Diagnostic>,
) -> Packing {
    let mut packing = Packing::default();
    let Some(written) = written else {
        return packing;
    };
    for (key, value, slot, max) in [
        (
            "names_per_step",
            written.names_per_step,
            &mut packing.names_per_step,
            MAX_NAMES_PER_LIST,
        ),
        (
            "steps_per_entry",
            written.steps_per_entry,
            &mut packing.steps_per_entry,
            MAX_STEPS_PER_ENTRY,
        ),
        (
            "entries_per_request",
            written.entries_per_request,
            &mut packing.entries_per_request,
            MAX_ENTRIES_PER_REQUEST,
        ),
    ] {
        let Some(value) = value else { continue };
        if (1..=max).contains(&value) {
            *slot = value;
        } else {
            problems.push(Diagnostic {
                location: Some(at(&[Step::Key("packing"), Step::Key(key)])),
                message: format!("packing.{key} is {value}, but UMAPI accepts 1 to {max}"),
                hint: Some(format!(
                    "write a number from 1 to {max}, or leave it out for {max}"
                )),
            });
        }
    }
    packing
}

fn resolve_options(options: &mut ConnectionOptions, resolve: &impl Fn(&Path) -> PathBuf) {
    options.ca_bundle = options.ca_bundle.as_deref().map(resolve);
}

/// Values that are secrets whatever their key: private keys pasted into the file.
fn secret_values(node: &Node, file: &Path, problems: &mut Vec<Diagnostic>) {
    match &node.value {
        desired::Value::Scalar { text, .. } => {
            if text.contains("-----BEGIN") && text.contains("PRIVATE KEY") {
                problems.push(Diagnostic {
                    location: Some(node.mark.in_file(file)),
                    message: "a private key is written in umapi.yaml".to_owned(),
                    hint: Some(format!(
                        "remove it and set the environment variable {PRIVATE_KEY_VAR} (the PEM \
                         text) or {PRIVATE_KEY_FILE_VAR} (a file path) instead"
                    )),
                });
            }
        }
        desired::Value::Sequence(items) => {
            for item in items {
                secret_values(item, file, problems);
            }
        }
        desired::Value::Mapping(entries) => {
            for (_, value) in entries {
                secret_values(value, file, problems);
            }
        }
    }
}

fn check_connection(
    connection: &Connection,
    at: &impl Fn(&[Step<'_>]) -> Location,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut report = |key: &'static str, message: String, hint: &str| {
        problems.push(Diagnostic {
            location: Some(at(&[Step::Key("connection"), Step::Key(key)])),
            message,
            hint: Some(hint.to_owned()),
        });
    };
    let (org_id, client_id, options) = match connection {
        Connection::Oauth(oauth) => (&oauth.org_id, &oauth.client_id, &oauth.options),
        Connection::Jwt(jwt) => {
            if jwt.technical_account_id.trim().is_empty() {
                report(
                    "technical_account_id",
                    "`technical_account_id` is empty".to_owned(),
                    "copy it from the Developer Console (it ends in @techacct.adobe.com)",
                );
            }
            (&jwt.org_id, &jwt.client_id, &jwt.options)
        }
        Connection::Sandbox(sandbox) => {
            for (key, size, hint) in [
                (
                    "user_page_size",
                    sandbox.user_page_size,
                    "omit it for UMAPI's page size",
                ),
                (
                    "group_page_size",
                    sandbox.group_page_size,
                    "omit it for UMAPI's page size",
                ),
                (
                    "memberships_per_entry",
                    sandbox.memberships_per_entry,
                    "write it like 10, or omit it for 10 names per list and no limit per entry",
                ),
            ] {
                if size == Some(0) {
                    report(key, format!("`{key}` must be at least 1"), hint);
                }
            }
            if let Some(scale) = sandbox.time_scale {
                if !valid_time_scale(scale) {
                    report(
                        "time_scale",
                        "`time_scale` must be a number greater than 0".to_owned(),
                        "write it like 60 (a minute lasts a second); omit it for real time",
                    );
                } else if sandbox.rate_limits != Some(SandboxRateLimits::Adobe) {
                    report(
                        "time_scale",
                        "`time_scale` has no effect without rate limits".to_owned(),
                        "add `rate_limits: adobe` to rehearse Adobe's limits, or remove \
                         `time_scale`",
                    );
                }
            }
            return problems;
        }
    };
    if !org_id.ends_with("@AdobeOrg") || org_id.len() <= "@AdobeOrg".len() {
        report(
            "org_id",
            format!("`{org_id}` is not an Adobe org id"),
            "an org id looks like 12345678ABCDEF@AdobeOrg (Admin Console, Settings)",
        );
    }
    if client_id.trim().is_empty() {
        report(
            "client_id",
            "`client_id` is empty".to_owned(),
            "copy the client id (API key) from the Developer Console project",
        );
    }
    for (key, url) in [
        ("ims_host", &options.ims_host),
        ("umapi_endpoint", &options.umapi_endpoint),
    ] {
        let Some(url) = url else { continue };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            report(
                key,
                format!("`{url}` is not an http(s) URL"),
                "write it like https://host/path",
            );
        } else if url.starts_with("http://") && !is_loopback_url(url) {
            report(
                key,
                format!(
                    "`{url}` is not HTTPS: the client secret and the access token would cross \
                     the network in clear text"
                ),
                "use an https:// URL; plain http:// is accepted only on this machine \
                 (localhost, 127.0.0.0/8, [::1])",
            );
        }
    }
    if options.timeout_seconds == Some(0) {
        report(
            "timeout_seconds",
            "`timeout_seconds` must be at least 1".to_owned(),
            "omit it for the default",
        );
    }
    if let Some(limits) = &options.rate_limits {
        for (key, value) in [
            ("users_per_minute", limits.users_per_minute),
            ("groups_per_minute", limits.groups_per_minute),
            ("actions_per_minute", limits.actions_per_minute),
        ] {
            if value == Some(0) {
                problems.push(Diagnostic {
                    location: Some(at(&[
                        Step::Key("connection"),
                        Step::Key("rate_limits"),
                        Step::Key(key),
                    ])),
                    message: format!("`{key}` must be at least 1"),
                    hint: Some("omit it to keep Adobe's published limit".to_owned()),
                });
            }
        }
        let at_limits = |key: &'static str| {
            Some(at(&[
                Step::Key("connection"),
                Step::Key("rate_limits"),
                Step::Key(key),
            ]))
        };
        if let Some(margin) = limits.margin_seconds
            && seconds(margin).is_none()
        {
            problems.push(Diagnostic {
                location: at_limits("margin_seconds"),
                message: "`margin_seconds` must be a number of seconds, 0 or more".to_owned(),
                hint: Some("write it like 0, 1.5 or 3; omit it for the default (3)".to_owned()),
            });
        }
        if let Some(scale) = limits.time_scale
            && !valid_time_scale(scale)
        {
            problems.push(Diagnostic {
                location: at_limits("time_scale"),
                message: "`time_scale` must be a number greater than 0".to_owned(),
                hint: Some(
                    "write the `--time-scale` the sandbox runs with; omit it for Adobe".to_owned(),
                ),
            });
        }
    }
    if let Some(retry) = &options.retry {
        let at_retry = |key: &'static str| {
            Some(at(&[
                Step::Key("connection"),
                Step::Key("retry"),
                Step::Key(key),
            ]))
        };
        if retry.max_attempts == Some(0) {
            problems.push(Diagnostic {
                location: at_retry("max_attempts"),
                message: "`max_attempts` must be at least 1".to_owned(),
                hint: Some("1 means never retry; omit it for the default (6)".to_owned()),
            });
        }
        for (key, value) in retry.durations() {
            if let Some(value) = value
                && seconds(value).is_none()
            {
                let message = if value.is_finite() && value > 0.0 {
                    format!("`{key}` is too large to be a number of seconds")
                } else {
                    format!("`{key}` must be a number of seconds, 0 or more")
                };
                problems.push(Diagnostic {
                    location: at_retry(key),
                    message,
                    hint: Some("write it like 0, 1.5 or 30; omit it for the default".to_owned()),
                });
            }
        }
    }
    problems
}

/// Whether `scale` can divide a minute: a finite number above 0 whose minute still
/// lasts at least a microsecond.
fn valid_time_scale(scale: f64) -> bool {
    scale.is_finite() && scale > 0.0 && scale <= 60_000_000.0
}

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or `[::1]`, where
/// plain HTTP never leaves the host (a local proxy, or the sandbox).
fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// The JSON Schema of `umapi.yaml`.
pub fn config_schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<ConfigFile>()
        .to_value()
}

/// Looks up an environment variable; tests pass their own function instead.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The client secret, from `UMAPI_CLIENT_SECRET` (looked up with `env`).
pub fn client_secret(env: impl Fn(&str) -> Option<String>) -> Result<Secret, Error> {
    env(CLIENT_SECRET_VAR)
        .map(Secret::new)
        .ok_or(Error::MissingSecret {
            variable: CLIENT_SECRET_VAR,
            what: "the client secret of the Developer Console project",
        })
}

impl JwtConnection {
    /// The private key (PEM): `UMAPI_PRIVATE_KEY`, else the file named by
    /// `UMAPI_PRIVATE_KEY_FILE`, else `private_key_file`.
    pub fn private_key(&self, env: impl Fn(&str) -> Option<String>) -> Result<Secret, Error> {
        if let Some(pem) = env(PRIVATE_KEY_VAR) {
            return Ok(Secret::new(pem));
        }
        let file = env(PRIVATE_KEY_FILE_VAR)
            .map(PathBuf::from)
            .or_else(|| self.private_key_file.clone())
            .ok_or(Error::MissingSecret {
                variable: PRIVATE_KEY_VAR,
                what: "the private key (PEM text); or set UMAPI_PRIVATE_KEY_FILE, or \
                       `private_key_file` in umapi.yaml, to a file holding it",
            })?;
        std::fs::read_to_string(&file)
            .map(Secret::new)
            .map_err(|source| Error::Io { path: file, source })
    }
}
