//! Helpers shared by the sandbox's integration tests: a small literal org, raw HTTP calls on
//! the in-process router, and token acquisition.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use umapi_sandbox::{OrgState, SandboxConfig, SharedState, router};

pub const ORG: &str = "SANDBOX0000000000000000@AdobeOrg";
pub const CLIENT: &str = "sandbox-client-id";
pub const SECRET: &str = "sandbox-client-secret";

/// A small org, written as the state file's JSON so that field names are checked too.
pub fn small_org() -> OrgState {
    serde_json::from_value(json!({
        "users": [
            {"id": "U1", "email": "ada@example.com", "username": "ada@example.com", "domain": "example.com",
             "firstname": "Ada", "lastname": "Lovelace", "country": "GB", "type": "federatedID",
             "groups": ["Engineering", "_org_admin"]},
            {"id": "U2", "email": "grace@example.com", "username": "grace@example.com", "domain": "example.com",
             "firstname": "Grace", "lastname": "Hopper", "country": "US", "type": "enterpriseID",
             "groups": ["Design", "Photoshop - Default"]},
            {"id": "U3", "email": "alan@example.net", "username": "alan@example.net", "domain": "example.net",
             "type": "adobeID", "groups": []},
            {"id": "U4", "email": "edsger@example.com", "username": "edsger", "domain": "example.com",
             "country": "NL", "type": "federatedID", "groups": ["Engineering", "Synced"]},
            {"id": "U5", "email": "barbara@example.com", "username": "barbara@example.com", "domain": "example.com",
             "country": "US", "type": "federatedID", "groups": []}
        ],
        "user_groups": [
            {"group_id": 11, "name": "Engineering", "description": "Builders", "profiles": ["All Apps - Default"]},
            {"group_id": 12, "name": "Design", "profiles": []},
            {"group_id": 13, "name": "Synced", "read_only": true}
        ],
        "product_profiles": [
            {"group_id": 21, "name": "All Apps - Default", "product_name": "Creative Cloud All Apps"},
            {"group_id": 22, "name": "Photoshop - Default", "product_name": "Photoshop", "license_quota": "50"}
        ],
        "admin_groups": [
            {"group_id": 31, "name": "_org_admin"},
            {"group_id": 32, "name": "_admin_Engineering"}
        ]
    }))
    .expect("the literal org is valid state JSON")
}

/// A raw response: status, headers, body text and (when it parses) JSON.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The in-process sandbox under test.
pub struct App {
    pub shared: SharedState,
    pub router: Router,
    pub token: String,
}

impl App {
    /// The sandbox with its defaults, except that it runs a request's entries in the
    /// order sent, so a test can tell which entry a result belongs to.
    pub async fn in_order(org: OrgState) -> App {
        App::new(
            SandboxConfig {
                shuffle_entries: false,
                ..Default::default()
            },
            org,
        )
        .await
    }

    pub async fn new(config: SandboxConfig, org: OrgState) -> App {
        let shared = SharedState::new(config, org);
        let router = router(shared.clone());
        let mut app = App {
            shared,
            router,
            token: String::new(),
        };
        let resp = app
            .send(
                Method::POST,
                "/ims/token/v2",
                &[("content-type", "application/x-www-form-urlencoded")],
                format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}&scope=openid,AdobeID,user_management_sdk"),
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
        app.token = resp.json()["access_token"].as_str().unwrap().to_string();
        app
    }

    pub async fn small() -> App {
        App::new(
            SandboxConfig {
                shuffle_entries: false,
                ..Default::default()
            },
            small_org(),
        )
        .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Raw {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        Raw {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// An authenticated UMAPI GET.
    pub async fn get(&self, path: &str) -> Raw {
        let auth = format!("Bearer {}", self.token);
        self.send(
            Method::GET,
            &format!("/v2/usermanagement{path}"),
            &[
                ("authorization", &auth),
                ("x-api-key", CLIENT),
                ("accept", "application/json"),
            ],
            Body::empty(),
        )
        .await
    }

    /// An authenticated POST of literal JSON to the action endpoint.
    pub async fn action(&self, body: Value) -> Raw {
        self.action_at(&format!("/action/{ORG}"), body).await
    }

    pub async fn action_at(&self, path: &str, body: Value) -> Raw {
        let auth = format!("Bearer {}", self.token);
        self.send(
            Method::POST,
            &format!("/v2/usermanagement{path}"),
            &[
                ("authorization", &auth),
                ("x-api-key", CLIENT),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }
}

/// The user with this email in the sandbox's state, if any.
pub fn user<'a>(state: &'a OrgState, email: &str) -> Option<&'a umapi_sandbox::state::UserRecord> {
    state
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
}
