//! Shared set-up of the HTTP tests: a wiremock server that plays IMS and UMAPI.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::json;
use umapi_core::{Connection, ConnectionBuilder, RateLimits, RetryPolicy, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ORG: &str = "TESTORG0000000000000000@AdobeOrg";
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "client-secret-Zq7Wv4Ux9";
pub const TOKEN: &str = "access-token-Hy3Kp8Rt1";

/// Answers OAuth token requests with [`TOKEN`], valid for a day.
pub async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "token_type": "bearer", "expires_in": 86_400
        })))
        .mount(server)
        .await;
}

/// A server that already issues tokens.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    mount_token(&server).await;
    server
}

/// A builder pointed at `server`, with zero retry sleeps, no pacing and short timeouts.
pub fn builder(server: &MockServer) -> ConnectionBuilder {
    Connection::builder(ORG)
        .oauth(CLIENT_ID, Secret::new(CLIENT_SECRET))
        .umapi_endpoint(format!("{}/v2/usermanagement", server.uri()))
        .ims_host(server.uri())
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .timeout(Duration::from_secs(5))
}

pub fn connection(server: &MockServer) -> Connection {
    builder(server).build().unwrap()
}

/// The path of UMAPI resource `rest` on the mock server.
pub fn umapi(rest: &str) -> String {
    format!("/v2/usermanagement/{rest}")
}

pub fn user(email: &str) -> serde_json::Value {
    json!({"email": email, "username": email, "domain": "example.com", "type": "federatedID",
           "status": "active", "groups": ["G"]})
}
