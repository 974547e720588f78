//! Proactive pacing under the per-endpoint rate limits, through a real connection.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;
use umapi_core::RateLimits;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn requests_beyond_the_limit_wait_for_the_window() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "success", "user": {"email": "a@x.com"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "success", "lastPage": true, "groups": []
        })))
        .mount(&server)
        .await;
    let window = Duration::from_millis(150);
    let conn = builder(&server)
        .rate_limits(RateLimits {
            users: Some(2),
            groups: None,
            actions: None,
            window,
            margin: Duration::ZERO,
        })
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        conn.user("a@x.com", None).await.unwrap();
    }
    let elapsed = started.elapsed();
    // Starts at 0, 0, 1, 1 and 2 windows: the fifth waits for two windows.
    assert!(elapsed >= 2 * window, "{elapsed:?}");
    assert!(conn.stats().pacing_wait >= window, "{:?}", conn.stats());
    assert_eq!(conn.stats().requests, 5);

    // Another class is not slowed down by the users limit.
    let before = conn.stats().pacing_wait;
    conn.groups().collect_all().await.unwrap();
    assert_eq!(conn.stats().pacing_wait, before);
}
