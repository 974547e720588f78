//! Retry sequences: which failures are retried, how often, and how long the client
//! means to wait. Sleeps are capped at zero (`RetryPolicy::no_delay`); the intended
//! waits are read from the connection's statistics.

use std::time::{Duration, SystemTime};

use crate::common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use umapi_core::{Error, RetryPolicy, UsersQuery};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ok_page() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "result": "success", "lastPage": true, "users": [user("a@x.com")]
    }))
}

/// Mounts `failures` (in order, once each) and then a success for page 0 of users.
async fn failing_then_ok(server: &MockServer, failures: Vec<ResponseTemplate>) {
    for failure in failures {
        Mock::given(method("GET"))
            .and(path(umapi(&format!("users/{ORG}/0"))))
            .respond_with(failure)
            .up_to_n_times(1)
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0"))))
        .respond_with(ok_page())
        .mount(server)
        .await;
}

async fn umapi_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/v2/"))
        .count()
}

fn throttled() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .set_body_json(json!({"error_code": "429050", "message": "Too many requests"}))
}

#[tokio::test]
async fn throttling_with_retry_after_seconds_waits_that_long() {
    let server = server().await;
    failing_then_ok(&server, vec![throttled().insert_header("Retry-After", "1")]).await;
    let conn = connection(&server);
    let users = conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(umapi_requests(&server).await, 2);
    let stats = conn.stats();
    assert_eq!(stats.throttled, 1);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.retry_wait_intended, Duration::from_secs(1));
    assert_eq!(
        stats.retry_wait_slept,
        Duration::ZERO,
        "the test policy never sleeps"
    );
}

#[tokio::test]
async fn throttling_with_an_http_date_waits_until_then() {
    let server = server().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    failing_then_ok(
        &server,
        vec![throttled().insert_header("Retry-After", at.as_str())],
    )
    .await;
    let conn = connection(&server);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(umapi_requests(&server).await, 2);
    let intended = conn.stats().retry_wait_intended;
    assert!(
        intended >= Duration::from_secs(118) && intended <= Duration::from_secs(120),
        "{intended:?}"
    );
}

#[tokio::test]
async fn throttling_without_retry_after_backs_off_exponentially_with_jitter() {
    let server = server().await;
    failing_then_ok(&server, vec![throttled(), throttled(), throttled()]).await;
    let policy = RetryPolicy {
        initial_backoff: Duration::from_secs(2),
        max_backoff: Duration::from_secs(60),
        jitter: Duration::from_secs(1),
        ..RetryPolicy::no_delay()
    };
    let conn = builder(&server).retry_policy(policy).build().unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(umapi_requests(&server).await, 4);
    // 2 s + 4 s + 8 s of back-off, plus up to 1 s of jitter each time.
    let intended = conn.stats().retry_wait_intended;
    assert!(
        intended >= Duration::from_secs(14) && intended <= Duration::from_secs(17),
        "{intended:?}"
    );
}

#[tokio::test]
async fn gateway_errors_are_retried() {
    let server = server().await;
    failing_then_ok(
        &server,
        vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(503),
            ResponseTemplate::new(504),
        ],
    )
    .await;
    let conn = connection(&server);
    assert_eq!(
        conn.users(UsersQuery::all())
            .collect_all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(umapi_requests(&server).await, 4);
    assert_eq!(conn.stats().retries, 3);
}

#[tokio::test]
async fn retries_are_bounded_and_keep_the_request_id() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .mount(&server)
        .await;
    let conn = builder(&server)
        .retry_policy(RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::no_delay()
        })
        .build()
        .unwrap();
    let error = conn
        .users(UsersQuery::all())
        .collect_all()
        .await
        .unwrap_err();
    let Error::Unavailable {
        attempts,
        last,
        request_id,
        ..
    } = error
    else {
        panic!("expected Unavailable, got {error:?}");
    };
    assert_eq!(attempts, 4);
    assert!(
        last.contains("503") && last.contains("maintenance"),
        "{last}"
    );
    let requests = server.received_requests().await.unwrap();
    let ids: Vec<_> = requests
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| {
            r.headers
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(
        ids.iter().all(|id| *id == request_id),
        "{ids:?} vs {request_id}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_total_wait_gives_up_at_once() {
    let server = server().await;
    failing_then_ok(
        &server,
        vec![throttled().insert_header("Retry-After", "3600")],
    )
    .await;
    let conn = connection(&server); // default total wait: 30 minutes
    let error = conn
        .users(UsersQuery::all())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Unavailable { attempts: 1, last, .. } if last.contains("total")),
        "{error:?}"
    );
    assert_eq!(umapi_requests(&server).await, 1);
}

#[tokio::test]
async fn server_errors_and_other_client_errors_are_not_retried() {
    for (status, is_server) in [(500, true), (400, false), (403, false)] {
        let server = server().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"error_code": "boom", "message": "nope"})),
            )
            .mount(&server)
            .await;
        let conn = connection(&server);
        let error = conn
            .users(UsersQuery::all())
            .collect_all()
            .await
            .unwrap_err();
        match (&error, is_server) {
            (
                Error::Server {
                    status: s, message, ..
                },
                true,
            )
            | (
                Error::Request {
                    status: s, message, ..
                },
                false,
            ) => {
                assert_eq!(*s, status);
                assert_eq!(message, "boom: nope");
            }
            _ => panic!("HTTP {status}: unexpected {error:?}"),
        }
        assert_eq!(
            umapi_requests(&server).await,
            1,
            "HTTP {status} was retried"
        );
    }
}

#[tokio::test]
async fn timeouts_are_retried() {
    let server = server().await;
    failing_then_ok(
        &server,
        vec![ok_page().set_delay(Duration::from_millis(500))],
    )
    .await;
    let conn = builder(&server)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(
        conn.users(UsersQuery::all())
            .collect_all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(umapi_requests(&server).await, 2);
    assert_eq!(conn.stats().retries, 1);
}

/// A bare HTTP server whose first `drops` connections are closed without an answer.
async fn dropping_server(drops: usize) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let body =
            json!({"result": "success", "lastPage": true, "users": [user("a@x.com")]}).to_string();
        let mut accepted = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            accepted += 1;
            let mut buffer = vec![0u8; 8192];
            let _ = socket.read(&mut buffer).await;
            if accepted <= drops {
                drop(socket);
                continue;
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
            return accepted;
        }
    });
    (format!("http://{address}/v2/usermanagement"), handle)
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let ims = server().await;
    let (endpoint, umapi_server) = dropping_server(2).await;
    let conn = builder(&ims).umapi_endpoint(endpoint).build().unwrap();
    let users = conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        umapi_server.await.unwrap(),
        3,
        "two dropped, the third answered"
    );
    assert_eq!(conn.stats().retries, 2);
}

#[tokio::test]
async fn unreachable_server_is_unavailable_after_the_attempts() {
    let ims = server().await;
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conn = builder(&ims)
        .umapi_endpoint(format!("http://127.0.0.1:{port}/v2/usermanagement"))
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::no_delay()
        })
        .build()
        .unwrap();
    let error = conn.user("a@x.com", None).await.unwrap_err();
    assert!(
        matches!(error, Error::Unavailable { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(conn.stats().requests, 3);
}

/// A host in `.invalid`, a top-level domain reserved never to resolve: the
/// resolver answers at once, without the network.
const UNRESOLVABLE: &str = "no-such-host.invalid";

#[tokio::test]
async fn a_umapi_host_that_does_not_resolve_fails_at_once() {
    let ims = server().await;
    let conn = builder(&ims)
        .umapi_endpoint(format!("http://{UNRESOLVABLE}/v2/usermanagement"))
        // Real waits: a retry would sleep at least the 2 s initial back-off.
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let error = conn.user("a@x.com", None).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(conn.stats().requests, 1, "one attempt, no retry");
    assert_eq!(conn.stats().retries, 0);
    let text = error.to_string();
    assert!(matches!(error, Error::Http(_)), "{error:?}");
    assert!(
        text.contains(&format!("the host name `{UNRESOLVABLE}` did not resolve")),
        "{text}"
    );
}

#[tokio::test]
async fn an_identity_host_that_does_not_resolve_fails_at_once() {
    let umapi_server = server().await;
    let conn = builder(&umapi_server)
        .ims_host(format!("https://{UNRESOLVABLE}"))
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let error = conn.user("a@x.com", None).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(conn.stats().token_requests, 1, "one attempt, no retry");
    assert_eq!(conn.stats().requests, 0, "UMAPI was never called");
    let text = error.to_string();
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert!(
        text.contains(&format!("the host name `{UNRESOLVABLE}` did not resolve")),
        "{text}"
    );
}
