//! Rate limits and injected faults, observed through raw responses and counters.

use std::time::{Duration, Instant};

use crate::support::{App, ORG, small_org};
use axum::http::{Method, StatusCode};
use serde_json::json;
use umapi_sandbox::{
    EndpointClass, Fault, FaultPlan, RandomFault, RateLimitConfig, SandboxConfig, ScriptedFault,
};

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_per_endpoint_class() {
    // Adobe's real limits with a minute that lasts 0.2 s.
    let config = SandboxConfig {
        rate_limits: Some(RateLimitConfig::default()),
        time_scale: 300.0,
        ..Default::default()
    };
    let app = App::new(config, small_org()).await;
    for _ in 0..5 {
        assert_eq!(
            app.get(&format!("/groups/{ORG}/0")).await.status,
            StatusCode::OK
        );
    }
    let limited = app.get(&format!("/groups/{ORG}/0")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        limited.json(),
        json!({"error_code": "429050", "message": "Too many requests"})
    );
    assert_eq!(
        limited.header("retry-after"),
        Some("1"),
        "rounded up to whole seconds"
    );
    // users have their own window
    assert_eq!(
        app.get(&format!("/users/{ORG}/0")).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(220)).await;
    assert_eq!(
        app.get(&format!("/groups/{ORG}/0")).await.status,
        StatusCode::OK
    );
    let c = app.shared.counters();
    assert_eq!(c.rate_limited, 1);
    assert_eq!(c.by_endpoint_status["groups"][&429], 1);
    assert_eq!(c.by_endpoint_status["groups"][&200], 6);
}

#[tokio::test]
async fn action_limit_is_ten_per_minute() {
    let config = SandboxConfig {
        rate_limits: Some(RateLimitConfig::default()),
        time_scale: 1.0,
        ..Default::default()
    };
    let app = App::new(config, small_org()).await;
    for _ in 0..10 {
        assert_eq!(
            app.action(json!([{"user": "ada@example.com", "do": []}]))
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = app
        .action(json!([{"user": "ada@example.com", "do": []}]))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn scripted_faults_hit_the_next_matching_requests_in_order() {
    let app = App::small().await;
    app.shared.set_faults(FaultPlan {
        script: vec![
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Status {
                    status: 503,
                    body: None,
                    retry_after: None,
                },
            },
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Status {
                    status: 429,
                    body: None,
                    retry_after: Some("7".into()),
                },
            },
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Malformed,
            },
        ]
        .into(),
        random: vec![],
    });
    // groups are not affected
    assert_eq!(
        app.get(&format!("/groups/{ORG}/0")).await.status,
        StatusCode::OK
    );
    let first = app.get(&format!("/users/{ORG}/0")).await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    let second = app.get(&format!("/users/{ORG}/0")).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.header("retry-after"), Some("7"));
    assert_eq!(second.json()["error_code"], "429050");
    let third = app.get(&format!("/users/{ORG}/0")).await;
    assert_eq!(third.status, StatusCode::OK);
    assert!(
        serde_json::from_str::<serde_json::Value>(&third.text).is_err(),
        "malformed body: {}",
        third.text
    );
    assert_eq!(
        app.get(&format!("/users/{ORG}/0")).await.status,
        StatusCode::OK,
        "script used up"
    );
    let c = app.shared.counters();
    assert_eq!(c.faults_injected, 3);
    let faults: Vec<_> = app
        .shared
        .request_log()
        .iter()
        .filter_map(|e| e.fault.clone())
        .collect();
    assert_eq!(faults, ["status 503", "status 429", "malformed"]);
}

#[tokio::test]
async fn a_faulted_action_changes_nothing() {
    let app = App::small().await;
    app.shared.set_faults(FaultPlan {
        script: vec![ScriptedFault {
            endpoint: None,
            fault: Fault::Status {
                status: 502,
                body: None,
                retry_after: None,
            },
        }]
        .into(),
        random: vec![],
    });
    let r = app
        .action(json!([{"user": "ada@example.com", "do": [{"removeFromOrg": {}}]}]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(app.shared.state(), small_org());
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let app = App::small().await;
    app.shared.set_faults(FaultPlan {
        script: vec![ScriptedFault {
            endpoint: Some(EndpointClass::Groups),
            fault: Fault::Delay { ms: 120 },
        }]
        .into(),
        random: vec![],
    });
    let started = Instant::now();
    let r = app.get(&format!("/groups/{ORG}/0")).await;
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn expire_token_fault_makes_the_request_401_and_a_new_token_works() {
    let mut app = App::small().await;
    app.shared.set_faults(FaultPlan {
        script: vec![ScriptedFault {
            endpoint: Some(EndpointClass::Users),
            fault: Fault::ExpireToken,
        }]
        .into(),
        random: vec![],
    });
    let r = app.get(&format!("/users/{ORG}/0")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(
        app.get(&format!("/groups/{ORG}/0")).await.status,
        StatusCode::UNAUTHORIZED,
        "the token is gone"
    );
    let token = app
        .send(
            Method::POST,
            "/ims/token/v2",
            &[("content-type", "application/x-www-form-urlencoded")],
            format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                crate::support::CLIENT,
                crate::support::SECRET
            ),
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.token = token;
    assert_eq!(
        app.get(&format!("/users/{ORG}/0")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn random_faults_follow_their_probability_and_the_seed() {
    let run = || async {
        let app = App::small().await;
        app.shared.set_faults(FaultPlan {
            script: Default::default(),
            random: vec![RandomFault {
                endpoint: Some(EndpointClass::Groups),
                probability: 0.3,
                fault: Fault::Status {
                    status: 500,
                    body: Some(json!({"boom": true})),
                    retry_after: None,
                },
            }],
        });
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(app.get(&format!("/groups/{ORG}/0")).await.status.as_u16());
        }
        statuses
    };
    let first = run().await;
    let failures = first.iter().filter(|s| **s == 500).count();
    assert!((30..90).contains(&failures), "{failures}");
    assert_eq!(first, run().await, "same seed, same faults");
}

#[tokio::test]
async fn faults_can_be_scripted_over_http() {
    let app = App::small().await;
    let plan =
        json!({"script": [{"endpoint": "groups", "kind": "status", "status": 504}], "random": []});
    let r = app
        .send(
            Method::POST,
            "/_sandbox/faults",
            &[("content-type", "application/json")],
            plan.to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pending = app
        .send(
            Method::GET,
            "/_sandbox/faults",
            &[],
            axum::body::Body::empty(),
        )
        .await
        .json();
    assert_eq!(pending["script"][0]["status"], 504);
    assert_eq!(
        app.get(&format!("/groups/{ORG}/0")).await.status,
        StatusCode::GATEWAY_TIMEOUT
    );
    let bad = app
        .send(
            Method::POST,
            "/_sandbox/faults",
            &[],
            "{\"script\": [{\"kind\": \"explode\"}]}",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
