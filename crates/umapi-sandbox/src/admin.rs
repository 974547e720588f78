//! The `/_sandbox/` admin API: counters, request log, state dump/replace/reset, faults and
//! token expiry, for tests, benchmarks and demos. It carries no credentials and is served on
//! the same (loopback) listener.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use crate::app::{SharedState, json_response};
use crate::faults::FaultPlan;
use crate::state::OrgState;

/// Routes mounted under `/_sandbox`.
pub(crate) fn routes() -> Router<SharedState> {
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
