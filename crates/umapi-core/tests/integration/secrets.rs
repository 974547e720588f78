//! No secret in `Debug` output, error messages or trace-level logs.
//!
//! This file is its own test binary, so it can install a global trace-level
//! subscriber (which also captures the `log` records of the HTTP stack) and run
//! every kind of exchange under it: OAuth and JWT token requests, queries, actions,
//! a 401 refresh and a retry.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::*;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use serde_json::json;
use umapi_core::{
    Connection, Credentials, IdentityType, JwtCredentials, RateLimits, RetryPolicy, Secret,
    UserAction, UsersQuery,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const JWT_SECRET: &str = "jwt-secret-Vb8Nc3Xq";

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(
            !text.contains(secret),
            "{what} contains a secret ({secret:.12}…):\n{text}"
        );
    }
}

#[tokio::test]
async fn debug_output_and_trace_logs_never_contain_secrets() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .unwrap();

    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let private_pem = key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    // The body of the key, without its BEGIN/END lines.
    let key_body: String = private_pem.lines().nth(1).unwrap().to_owned();
    let jwt_token = "jwt-access-token-Rr5Tt6";
    let secrets = [
        CLIENT_SECRET,
        TOKEN,
        JWT_SECRET,
        key_body.as_str(),
        jwt_token,
        "token-after-401",
    ];

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "token_type": "bearer", "expires_in": 86_400
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "token-after-401", "token_type": "bearer", "expires_in": 86_400
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/ims/exchange/jwt/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": jwt_token, "token_type": "bearer", "expires_in": 86_400_000
        })))
        .mount(&server)
        .await;
    // First query: 401 (refresh), then 503 (retry), then the page.
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "success", "lastPage": true, "users": [user("a@x.com")]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(umapi(&format!("action/{ORG}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "completed": 1, "notCompleted": 0, "completedInTestMode": 0, "result": "success"
        })))
        .mount(&server)
        .await;

    let oauth_builder = builder(&server);
    let oauth = oauth_builder.clone().build().unwrap();
    oauth.users(UsersQuery::all()).collect_all().await.unwrap();
    let mut action = UserAction::with_email(IdentityType::FederatedId, "a@x.com");
    action.add_to_groups(["G"]).unwrap();
    oauth.execute_single(action, true).await.unwrap();

    let jwt_credentials = JwtCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(JWT_SECRET),
        technical_account_id: "T@techacct.adobe.com".into(),
        private_key_pem: Secret::new(private_pem.clone()),
    };
    let jwt_builder = Connection::builder(ORG)
        .jwt(jwt_credentials.clone())
        .umapi_endpoint(format!("{}/v2/usermanagement", server.uri()))
        .ims_host(server.uri())
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited());
    let jwt = jwt_builder.clone().build().unwrap();
    jwt.users(UsersQuery::all()).collect_all().await.unwrap();
    assert!(oauth.stats().token_requests == 2 && jwt.stats().token_requests == 1);

    let debug_outputs = [
        ("oauth builder", format!("{oauth_builder:?}")),
        ("oauth connection", format!("{oauth:?}")),
        ("jwt builder", format!("{jwt_builder:?}")),
        ("jwt connection", format!("{jwt:?}")),
        ("jwt credentials", format!("{jwt_credentials:?}")),
        (
            "credentials",
            format!("{:?}", Credentials::Jwt(jwt_credentials.clone())),
        ),
        (
            "secret",
            format!("{:?} {}", Secret::new(TOKEN), Secret::new(TOKEN)),
        ),
    ];
    for (what, text) in &debug_outputs {
        assert_clean(what, text, &secrets);
        assert!(text.contains("[redacted]"), "{what}: {text}");
    }

    builder(&server)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("WARN") && logs.contains("TLS certificate verification is OFF"),
        "turning verification off is warned about"
    );
    assert!(logs.contains("TRACE"), "trace-level events were captured");
    assert!(logs.contains("UMAPI request") && logs.contains("token request"));
    assert!(
        logs.contains("hyper_util"),
        "the HTTP stack's own events are included"
    );
    assert_clean("the trace log", &logs, &secrets);
}
