//! The IMS token endpoints: OAuth server-to-server client credentials and the legacy JWT
//! exchange, issuing access tokens that expire.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use serde_json::{Value, json};

use crate::app::{IssuedToken, SharedState, json_response, lock};

/// The IMS host Adobe's clients build `aud` and the metascope claim from.
const ADOBE_IMS: &str = "https://ims-na1.adobelogin.com";
const METASCOPE: &str = "/s/ent_user_sdk";

fn form(body: &Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn ims_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// Checks client id and secret (the secret is compared, never echoed); the refusal, if any.
fn client_refusal(state: &SharedState, form: &HashMap<String, String>) -> Option<Response> {
    let config = state.config();
    match form.get("client_id") {
        Some(id) if *id == config.client_id => {}
        Some(_) => {
            return Some(ims_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "invalid client_id parameter",
            ));
        }
        None => {
            return Some(ims_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "missing client_id parameter",
            ));
        }
    }
    match form.get("client_secret") {
        Some(secret) if secret == config.client_secret.expose() => None,
        _ => Some(ims_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "invalid client_secret parameter",
        )),
    }
}

fn issue(state: &SharedState) -> (String, u64) {
    let mut raw = [0u8; 32];
    rand::rng().fill(&mut raw[..]);
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let lifetime = state.config().token_lifetime;
    lock(&state.0.tokens).insert(
        token.clone(),
        IssuedToken {
            client_id: state.config().client_id.clone(),
            expires_at: Instant::now() + lifetime,
        },
    );
    lock(&state.0.observer).counters.tokens_issued += 1;
    (token, lifetime.as_millis() as u64)
}

/// `POST /ims/token/v2`: client credentials → access token, `expires_in` in seconds.
pub(crate) async fn oauth_token(State(state): State<SharedState>, body: Bytes) -> Response {
    let form = form(&body);
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if let Some(resp) = client_refusal(&state, &form) {
        return resp;
    }
    if let Some(scope) = form.get("scope")
        && !scope.split([',', ' ']).any(|s| s == "user_management_sdk")
    {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope must include user_management_sdk",
        );
    }
    let (token, lifetime_ms) = issue(&state);
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime_ms / 1000}),
    )
}

/// The IMS bases a JWT may name in `aud` and in its metascope claim: Adobe's real host (as
/// Adobe's clients build it) and the host the client reached the sandbox at.
fn accepted_bases(headers: &HeaderMap) -> Vec<String> {
    let mut bases = vec![ADOBE_IMS.to_string()];
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        bases.push(format!("https://{host}"));
        bases.push(format!("http://{host}"));
    }
    bases
}

/// `POST /ims/exchange/jwt`: client credentials and a signed JWT → access token,
/// `expires_in` in milliseconds.
pub(crate) async fn jwt_exchange(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(jwt_config) = state.config().jwt.clone() else {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the JWT exchange is not enabled on this sandbox",
        );
    };
    let form = form(&body);
    if let Some(resp) = client_refusal(&state, &form) {
        return resp;
    }
    let Some(jwt) = form.get("jwt_token") else {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing jwt_token parameter",
        );
    };
    let key = match DecodingKey::from_rsa_pem(jwt_config.public_key_pem.as_bytes()) {
        Ok(k) => k,
        Err(_) => {
            return ims_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the configured public key is not an RSA PEM key",
            );
        }
    };
    let bases = accepted_bases(&headers);
    let client_id = &state.config().client_id;
    let audiences: Vec<String> = bases.iter().map(|b| format!("{b}/c/{client_id}")).collect();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&audiences);
    validation.set_issuer(&[&state.config().org_id]);
    validation.sub = Some(jwt_config.technical_account_id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 0;
    let claims =
        match jsonwebtoken::decode::<serde_json::Map<String, Value>>(jwt, &key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                return ims_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_token",
                    &format!("JWT rejected: {e}"),
                );
            }
        };
    let has_metascope = bases
        .iter()
        .any(|b| claims.get(&format!("{b}{METASCOPE}")) == Some(&Value::Bool(true)));
    if !has_metascope {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "JWT lacks the metascope claim https://ims-na1.adobelogin.com/s/ent_user_sdk: true",
        );
    }
    let (token, lifetime_ms) = issue(&state);
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime_ms}),
    )
}
