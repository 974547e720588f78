//! `umapi.yaml`: connection kinds, paths relative to the file, settings, and
//! secrets that may only come from the environment.

use std::path::{Path, PathBuf};

use umapi_sync::Error;
use umapi_sync::config::{self, Config, Connection};

/// Writes `text` as `umapi.yaml` in a fresh folder and loads it.
fn load(text: &str) -> (tempfile::TempDir, Result<Config, Error>) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("umapi.yaml");
    std::fs::write(&path, text).unwrap();
    let result = Config::load(&path);
    (folder, result)
}

/// The rendered problems, with the temporary folder replaced by `DIR`.
fn problems(text: &str) -> String {
    let (folder, result) = load(text);
    match result {
        Err(Error::Invalid(found)) => found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
            .replace(&folder.path().display().to_string(), "DIR"),
        Err(other) => panic!("unexpected error {other}"),
        Ok(config) => panic!("loaded without problems: {config:?}"),
    }
}

#[test]
fn oauth_connection_with_every_option() {
    let (folder, result) = load(
        "connection:\n  kind: oauth\n  org_id: 12345678ABCDEF@AdobeOrg\n  client_id: abc123\n  \
         ims_host: https://ims.example.test\n  umapi_endpoint: https://umapi.example.test/v2/usermanagement\n  \
         timeout_seconds: 30\n  ca_bundle: certs/ca.pem\n  tls_verify: true\n  rate_limits:\n    \
         users_per_minute: 20\n    actions_per_minute: 8\nstate: [state, extra/more.yaml]\n",
    );
    let config = result.unwrap();
    let Connection::Oauth(oauth) = &config.connection else {
        panic!("not oauth: {:?}", config.connection)
    };
    assert_eq!(oauth.org_id, "12345678ABCDEF@AdobeOrg");
    assert_eq!(oauth.client_id, "abc123");
    assert_eq!(
        oauth.options.ims_host.as_deref(),
        Some("https://ims.example.test")
    );
    assert_eq!(oauth.options.timeout_seconds, Some(30));
    assert_eq!(oauth.options.tls_verify, Some(true));
    assert_eq!(
        oauth.options.ca_bundle,
        Some(folder.path().join("certs/ca.pem"))
    );
    let limits = oauth.options.rate_limits.as_ref().unwrap();
    assert_eq!(
        (
            limits.users_per_minute,
            limits.groups_per_minute,
            limits.actions_per_minute
        ),
        (Some(20), None, Some(8))
    );
    assert_eq!(
        config.state,
        [
            folder.path().join("state"),
            folder.path().join("extra/more.yaml")
        ]
    );
    assert_eq!(config.settings, None);
}

#[test]
fn jwt_and_sandbox_connections() {
    let (folder, result) = load(
        "connection:\n  kind: jwt\n  org_id: 1@AdobeOrg\n  client_id: key\n  \
         technical_account_id: TA@techacct.adobe.com\n  private_key_file: keys/private.key\n",
    );
    let Connection::Jwt(jwt) = result.unwrap().connection else {
        panic!("not jwt")
    };
    assert_eq!(jwt.technical_account_id, "TA@techacct.adobe.com");
    assert_eq!(
        jwt.private_key_file,
        Some(folder.path().join("keys/private.key"))
    );

    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("seed.json"), "{}").unwrap();
    let path = folder.path().join("umapi.yaml");
    std::fs::write(
        &path,
        "connection:\n  kind: sandbox\n  seed_file: seed.json\n  state_file: .sandbox/org.json\n  \
         port: 8080\n  user_page_size: 50\n  group_page_size: 10\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let Connection::Sandbox(sandbox) = config.connection else {
        panic!("not sandbox")
    };
    assert_eq!(sandbox.seed_file, Some(folder.path().join("seed.json")));
    assert_eq!(
        sandbox.state_file,
        Some(folder.path().join(".sandbox/org.json"))
    );
    assert_eq!(
        (
            sandbox.port,
            sandbox.user_page_size,
            sandbox.group_page_size
        ),
        (Some(8080), Some(50), Some(10))
    );
    assert_eq!(config.state, [folder.path().join("state")]);
}

#[test]
fn a_secret_in_the_file_is_an_error_that_does_not_repeat_it() {
    let secret = "p8e-SUPER-secret-value-0001";
    let text = format!(
        "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  client_secret: {secret}\n"
    );
    let rendered = problems(&text);
    assert_eq!(
        rendered,
        "DIR/umapi.yaml:5:3: `client_secret` is a secret and must not be written in umapi.yaml\n  \
         hint: remove it and set the environment variable UMAPI_CLIENT_SECRET instead (secrets \
         never go in files that are committed)"
    );
    assert!(!rendered.contains(secret));
}

#[test]
fn every_secret_looking_key_and_pasted_keys_are_refused() {
    let rendered = problems(
        "connection:\n  kind: jwt\n  org_id: 1@AdobeOrg\n  client_id: abc\n  technical_account_id: t\n  \
         private_key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBg\n    -----END PRIVATE KEY-----\n  \
         access_token: eyJhbGciOi\n  password: hunter2\n",
    );
    insta::assert_snapshot!(rendered);
    for leaked in ["MIIEvQIBADANBg", "eyJhbGciOi", "hunter2"] {
        assert!(!rendered.contains(leaked), "{leaked} leaked");
    }
}

#[test]
fn mistakes_in_the_connection_point_at_the_line() {
    insta::assert_snapshot!(problems(
        "connection:\n  kind: oath\n  org_id: 1@AdobeOrg\n  client_id: abc\n"
    ));
    insta::assert_snapshot!(
        "unknown_keys",
        problems(
            "connection:\n  kind: oauth\n  org_id: 12345\n  client_id: \"\"\n  ims_hots: https://x\n  \
             umapi_endpoint: usermanagement.adobe.io\n  timeout_seconds: 0\n  rate_limits: {actions_per_minute: 0}\n\
             stat: [state]\n"
        )
    );
    insta::assert_snapshot!(
        "bad_values",
        problems(
            "connection:\n  kind: jwt\n  org_id: my-org\n  client_id: \"\"\n  technical_account_id: \" \"\n  \
             umapi_endpoint: usermanagement.adobe.io\n  timeout_seconds: 0\n  rate_limits: {actions_per_minute: 0}\n"
        )
    );
    insta::assert_snapshot!(
        "number_for_text",
        problems("connection:\n  kind: oauth\n  org_id: 12345\n  client_id: true\n")
    );
    insta::assert_snapshot!(
        "missing_kind",
        problems("connection:\n  org_id: 1@AdobeOrg\n")
    );
    insta::assert_snapshot!("empty", problems("# nothing\n"));
}

#[test]
fn the_retry_block_of_oauth_and_jwt_connections() {
    let (_folder, result) = load(
        "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  retry:\n    \
         max_attempts: 2\n    initial_backoff_seconds: 0\n    max_backoff_seconds: 2.5\n    \
         max_total_wait_seconds: 90\n",
    );
    let Connection::Oauth(oauth) = result.unwrap().connection else {
        panic!("not oauth")
    };
    assert_eq!(
        oauth.options.retry,
        Some(config::RetryConfig {
            max_attempts: Some(2),
            initial_backoff_seconds: Some(0.0),
            max_backoff_seconds: Some(2.5),
            max_total_wait_seconds: Some(90.0),
        })
    );

    let (_folder, result) = load(
        "connection:\n  kind: jwt\n  org_id: 1@AdobeOrg\n  client_id: key\n  \
         technical_account_id: TA@techacct.adobe.com\n  retry: {max_attempts: 1}\n",
    );
    let Connection::Jwt(jwt) = result.unwrap().connection else {
        panic!("not jwt")
    };
    let retry = jwt.options.retry.unwrap();
    assert_eq!(retry.max_attempts, Some(1));
    assert_eq!(
        retry.initial_backoff_seconds, None,
        "unset fields stay unset"
    );

    let (_folder, result) =
        load("connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n");
    let Connection::Oauth(oauth) = result.unwrap().connection else {
        panic!("not oauth")
    };
    assert_eq!(oauth.options.retry, None);
}

#[test]
fn a_negative_retry_wait_is_reported_at_its_value() {
    assert_eq!(
        problems(
            "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  retry:\n    \
             max_backoff_seconds: -1\n"
        ),
        "DIR/umapi.yaml:6:26: `max_backoff_seconds` must be a number of seconds, 0 or more\n  \
         hint: write it like 0, 1.5 or 30; omit it for the default"
    );
}

#[test]
fn mistakes_in_the_retry_block_point_at_the_line() {
    insta::assert_snapshot!(
        "retry_bad_values",
        problems(
            "connection:\n  kind: jwt\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
             technical_account_id: TA@techacct.adobe.com\n  retry:\n    max_attempts: 0\n    \
             initial_backoff_seconds: .nan\n    max_backoff_seconds: 1e300\n    \
             max_total_wait_seconds: .inf\n"
        )
    );
    insta::assert_snapshot!(
        "retry_unknown_keys",
        problems(
            "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  retry:\n    \
             max_backoff: 10\n    jitter_seconds: 0\n"
        )
    );
    insta::assert_snapshot!(
        "retry_wrong_types",
        problems(
            "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
             retry: {max_attempts: -2, initial_backoff_seconds: soon}\n"
        )
    );
    insta::assert_snapshot!(
        "retry_on_the_sandbox",
        problems("connection:\n  kind: sandbox\n  retry: {max_attempts: 2}\n")
    );
}

#[test]
fn settings_in_umapi_yaml_are_checked_where_they_are_written() {
    insta::assert_snapshot!(problems(
        "connection:\n  kind: sandbox\nsettings:\n  default_country: us\n  limits:\n    max_group_deletions: \"200%\"\n  \
         exclude:\n    users: [\"[\"]\n"
    ));
}

#[test]
fn a_missing_state_path_points_at_its_entry() {
    let (_folder, result) =
        load("connection:\n  kind: sandbox\nstate:\n  - state\n  - nowhere.yaml\n");
    let config = result.unwrap();
    std::fs::create_dir(&config.state[0]).unwrap();
    let Err(Error::Invalid(found)) = config.load_state() else {
        panic!("expected problems")
    };
    assert_eq!(found.len(), 1);
    let location = found[0].location.as_ref().unwrap();
    assert_eq!((location.line, location.column), (5, 5));
    assert!(
        found[0].message.contains("nowhere.yaml` does not exist"),
        "{}",
        found[0].message
    );
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn secrets_come_from_the_environment_and_never_print() {
    let secret = config::client_secret(env(&[("UMAPI_CLIENT_SECRET", "s3cr3t-value")])).unwrap();
    assert_eq!(secret.expose(), "s3cr3t-value");
    assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
    let missing = config::client_secret(env(&[])).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "the environment variable UMAPI_CLIENT_SECRET is not set; it must hold the client secret \
         of the Developer Console project (secrets are never read from umapi.yaml)"
    );
}

#[test]
fn the_private_key_comes_from_the_variable_then_the_file_variable_then_the_config() {
    let folder = tempfile::tempdir().unwrap();
    let from_config = folder.path().join("config.key");
    let from_env_file = folder.path().join("env.key");
    std::fs::write(&from_config, "PEM FROM CONFIG").unwrap();
    std::fs::write(&from_env_file, "PEM FROM ENV FILE").unwrap();
    let jwt = config::JwtConnection {
        private_key_file: Some(from_config.clone()),
        ..Default::default()
    };
    let file_var = from_env_file.display().to_string();
    let key = |pairs: &[(&str, &str)]| jwt.private_key(env(pairs)).map(|k| k.expose().to_owned());
    assert_eq!(
        key(&[
            ("UMAPI_PRIVATE_KEY", "PEM TEXT"),
            ("UMAPI_PRIVATE_KEY_FILE", &file_var)
        ])
        .unwrap(),
        "PEM TEXT"
    );
    assert_eq!(
        key(&[("UMAPI_PRIVATE_KEY_FILE", &file_var)]).unwrap(),
        "PEM FROM ENV FILE"
    );
    assert_eq!(key(&[]).unwrap(), "PEM FROM CONFIG");
    let without = config::JwtConnection::default();
    let error = without.private_key(env(&[])).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the environment variable UMAPI_PRIVATE_KEY is not set"),
        "{error}"
    );
    let missing_file = config::JwtConnection {
        private_key_file: Some(PathBuf::from("/nonexistent/key.pem")),
        ..Default::default()
    };
    let error = missing_file.private_key(env(&[])).unwrap_err();
    assert!(matches!(&error, Error::Io { path, .. } if path == Path::new("/nonexistent/key.pem")));
}

#[test]
fn config_schema_knows_the_three_kinds() {
    let schema = config::config_schema();
    let text = serde_json::to_string(&schema).unwrap();
    for kind in ["\"oauth\"", "\"jwt\"", "\"sandbox\""] {
        assert!(text.contains(kind), "{kind} missing from {text}");
    }
}

#[test]
fn plain_http_endpoints_are_refused_except_on_this_machine() {
    let oauth = |ims: &str, umapi: &str| {
        format!(
            "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
             ims_host: {ims}\n  umapi_endpoint: {umapi}\n"
        )
    };
    let found = problems(&oauth(
        "http://ims.example.test",
        "http://10.0.0.8:8080/v2/usermanagement",
    ));
    assert!(
        found.contains("DIR/umapi.yaml:5:13: `http://ims.example.test` is not HTTPS"),
        "{found}"
    );
    assert!(
        found
            .contains("DIR/umapi.yaml:6:19: `http://10.0.0.8:8080/v2/usermanagement` is not HTTPS"),
        "{found}"
    );
    assert!(found.contains("clear text"), "{found}");
    assert!(found.contains("hint: use an https:// URL"), "{found}");

    // The same check guards a jwt connection, whose secret crosses the same way.
    let jwt = "connection:\n  kind: jwt\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
               technical_account_id: t@techacct.adobe.com\n  ims_host: http://ims.example.test\n";
    assert!(problems(jwt).contains("DIR/umapi.yaml:6:13: `http://ims.example.test` is not HTTPS"));

    for (ims, umapi) in [
        (
            "http://localhost:8080",
            "http://127.0.0.1:9/v2/usermanagement",
        ),
        ("http://LOCALHOST", "http://127.3.4.5/v2/usermanagement"),
        (
            "http://[::1]:8080",
            "https://usermanagement.adobe.io/v2/usermanagement",
        ),
    ] {
        let (_folder, result) = load(&oauth(ims, umapi));
        assert!(result.is_ok(), "{ims} {umapi}: {:?}", result.err());
    }
    // A name that merely starts like a loopback one is not this machine.
    for ims in [
        "http://localhost.example.test",
        "http://127.0.0.1.example.test",
    ] {
        let found = problems(&oauth(ims, "https://umapi.example.test/v2"));
        assert!(found.contains("is not HTTPS"), "{ims}: {found}");
    }
}

#[test]
fn rehearsal_rate_limits_are_checked_where_they_are_written() {
    insta::assert_snapshot!(
        "sandbox_rate_limit_mistakes",
        problems("connection:\n  kind: sandbox\n  rate_limits: adobe\n  time_scale: 0\n")
    );
    insta::assert_snapshot!(
        "sandbox_time_scale_without_limits",
        problems("connection:\n  kind: sandbox\n  time_scale: 60\n")
    );
    insta::assert_snapshot!(
        "sandbox_unknown_rate_limits",
        problems("connection:\n  kind: sandbox\n  rate_limits: adobee\n")
    );
    insta::assert_snapshot!(
        "oauth_margin_and_time_scale_mistakes",
        problems(
            "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
             rate_limits: {margin_seconds: -1, time_scale: .inf}\n"
        )
    );
}
