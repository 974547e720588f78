//! The `/_sandbox/` admin API: counters, request log, state dump/replace/reset, faults and
//! token expiry, for tests, benchmarks and demos. It carries no credentials and is served on
//! the same (loopback) listener, so it refuses what a web page could send it: a request
//! whose `Host` is not the sandbox's own address (DNS rebinding) or that comes from another
//! origin (`Origin`, `Sec-Fetch-Site`).

use std::net::IpAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use crate::app::{SharedState, json_response};
use crate::faults::FaultPlan;
use crate::state::OrgState;

/// Routes mounted under `/_sandbox`.
pub(crate) fn routes(state: SharedState) -> Router<SharedState> {
    Router::new()
        .route("/counters", get(counters))
        .route("/requests", get(requests))
        .route("/state", get(get_state).put(put_state))
        .route("/reset", post(reset))
        .route(
            "/faults",
            get(get_faults).post(post_faults).delete(delete_faults),
        )
        .route("/expire-tokens", post(expire_tokens))
        .layer(middleware::from_fn_with_state(state, same_origin_only))
}

/// The host part of a `Host` header or of an origin's authority (`[::1]:80` → `::1`).
fn host_part(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// Whether `host` names the sandbox itself: a loopback name or address, or the address it
/// was deliberately bound to.
fn is_own_host(host: &str, bound: IpAddr) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || ip == bound)
}

/// Why a request to the admin API is refused, if it is.
fn foreign_request(headers: &HeaderMap, bound: IpAddr) -> Option<String> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(host) = text("host")
        && !is_own_host(host_part(host), bound)
    {
        return Some(format!(
            "the admin API answers only requests addressed to the sandbox itself, not to host `{host}`"
        ));
    }
    if let Some(origin) = text("origin") {
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        if !authority.is_some_and(|a| is_own_host(host_part(a), bound)) {
            return Some(format!(
                "the admin API does not answer requests from the web origin `{origin}`"
            ));
        }
    }
    if text("sec-fetch-site") == Some("cross-site") {
        return Some("the admin API does not answer cross-site requests".into());
    }
    None
}

async fn same_origin_only(State(s): State<SharedState>, req: Request, next: Next) -> Response {
    match foreign_request(req.headers(), s.config().bind) {
        Some(message) => json_response(StatusCode::FORBIDDEN, &json!({ "message": message })),
        None => next.run(req).await,
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_value(value) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": e.to_string()}),
        ),
    }
}

fn bad_request(what: &str, e: impl std::fmt::Display) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"message": format!("invalid {what}: {e}")}),
    )
}

async fn counters(State(s): State<SharedState>) -> Response {
    to_json(&s.counters())
}

async fn requests(State(s): State<SharedState>) -> Response {
    to_json(&s.request_log())
}

async fn get_state(State(s): State<SharedState>) -> Response {
    to_json(&s.state())
}

async fn put_state(State(s): State<SharedState>, body: Bytes) -> Response {
    match serde_json::from_slice::<OrgState>(&body) {
        Ok(state) => match s.set_state(state) {
            Ok(()) => json_response(StatusCode::OK, &json!({"result": "success"})),
            Err(e) => json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"message": e.to_string()}),
            ),
        },
        Err(e) => bad_request("state", e),
    }
}

async fn reset(State(s): State<SharedState>) -> Response {
    match s.reset() {
        Ok(()) => json_response(StatusCode::OK, &json!({"result": "success"})),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": e.to_string()}),
        ),
    }
}

async fn get_faults(State(s): State<SharedState>) -> Response {
    to_json(&s.faults())
}

async fn post_faults(State(s): State<SharedState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultPlan>(&body) {
        Ok(plan) => {
            s.set_faults(plan);
            json_response(StatusCode::OK, &json!({"result": "success"}))
        }
        Err(e) => bad_request("fault plan", e),
    }
}

async fn delete_faults(State(s): State<SharedState>) -> Response {
    s.set_faults(FaultPlan::default());
    json_response(StatusCode::OK, &json!({"result": "success"}))
}

async fn expire_tokens(State(s): State<SharedState>) -> Response {
    s.expire_tokens();
    json_response(StatusCode::OK, &json!({"result": "success"}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_sandboxs_own_host_and_origin_pass() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        for ok in [
            vec![],
            vec![("host", "127.0.0.1:8080")],
            vec![("host", "localhost")],
            vec![("host", "[::1]:9")],
            vec![
                ("host", "127.0.0.1:8080"),
                ("origin", "http://localhost:8080"),
            ],
            vec![("sec-fetch-site", "same-origin")],
        ] {
            assert_eq!(foreign_request(&headers(&ok), loopback), None, "{ok:?}");
        }
        for bad in [
            vec![("host", "evil.example:8080")],
            vec![("host", "127.0.0.1.evil.example")],
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("sec-fetch-site", "cross-site")],
        ] {
            assert!(
                foreign_request(&headers(&bad), loopback).is_some(),
                "{bad:?}"
            );
        }
        let lan: IpAddr = "192.168.1.5".parse().unwrap();
        assert_eq!(
            foreign_request(&headers(&[("host", "192.168.1.5:80")]), lan),
            None
        );
    }
}
