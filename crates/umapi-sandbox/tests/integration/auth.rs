//! Protocol tests of the IMS token endpoints and of token and API-key checks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{App, CLIENT, ORG, SECRET, small_org};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use umapi_sandbox::{JwtConfig, SandboxConfig};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

#[tokio::test]
async fn oauth_token_with_and_without_trailing_slash() {
    let app = App::small().await;
    for path in ["/ims/token/v2", "/ims/token/v2/"] {
        let r = app
            .send(
                Method::POST,
                path,
                &[FORM],
                format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}&scope=openid,AdobeID,user_management_sdk"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let body = r.json();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 86_400, "OAuth expires_in is in seconds");
        assert!(body["access_token"].as_str().unwrap().len() >= 32);
    }
}

#[tokio::test]
async fn oauth_refuses_wrong_credentials_without_echoing_them() {
    let app = App::small().await;
    let wrong_secret = app
        .send(
            Method::POST,
            "/ims/token/v2",
            &[FORM],
            format!("grant_type=client_credentials&client_id={CLIENT}&client_secret=guess-me-123"),
        )
        .await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_secret.json()["error"], "invalid_client");
    assert!(!wrong_secret.text.contains("guess-me-123"));
    let wrong_client = app
        .send(
            Method::POST,
            "/ims/token/v2",
            &[FORM],
            format!("grant_type=client_credentials&client_id=other&client_secret={SECRET}"),
        )
        .await;
    assert_eq!(wrong_client.status, StatusCode::BAD_REQUEST);
    assert!(!wrong_client.text.contains(SECRET));
    let wrong_grant = app
        .send(
            Method::POST,
            "/ims/token/v2",
            &[FORM],
            format!("grant_type=password&client_id={CLIENT}&client_secret={SECRET}"),
        )
        .await;
    assert_eq!(wrong_grant.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn missing_or_unknown_token_is_401_with_www_authenticate_and_wrong_api_key_403() {
    let app = App::small().await;
    let path = format!("/v2/usermanagement/users/{ORG}/0");
    let no_token = app
        .send(Method::GET, &path, &[("x-api-key", CLIENT)], Body::empty())
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert!(
        no_token
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let bad_token = app
        .send(
            Method::GET,
            &path,
            &[
                ("x-api-key", CLIENT),
                ("authorization", "Bearer not-a-token"),
            ],
            Body::empty(),
        )
        .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert!(bad_token.header("www-authenticate").is_some());
    let auth = format!("Bearer {}", app.token);
    let wrong_key = app
        .send(
            Method::GET,
            &path,
            &[("x-api-key", "someone-else"), ("authorization", &auth)],
            Body::empty(),
        )
        .await;
    assert_eq!(wrong_key.status, StatusCode::FORBIDDEN);
    let no_key = app
        .send(
            Method::GET,
            &path,
            &[("authorization", &auth)],
            Body::empty(),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/users/{ORG}/0")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_expire_after_the_configured_lifetime() {
    let config = SandboxConfig {
        token_lifetime: Duration::from_millis(150),
        ..Default::default()
    };
    let app = App::new(config, small_org()).await;
    assert_eq!(
        app.get(&format!("/users/{ORG}/0")).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = app.get(&format!("/users/{ORG}/0")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("expired"));
}

struct Keys {
    private_pem: String,
    public_pem: String,
}

fn keys() -> Keys {
    let mut rng = rsa::rand_core::OsRng;
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    Keys {
        private_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(private_pem: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn good_claims(ims: &str) -> Value {
    let mut claims = json!({
        "exp": now() + 3600, "iss": ORG, "sub": "tech@techacct.adobe.com",
        "aud": format!("{ims}/c/{CLIENT}"),
    });
    claims[format!("{ims}/s/ent_user_sdk")] = json!(true);
    claims
}

#[tokio::test]
async fn jwt_exchange_verifies_signature_and_claims() {
    let keys = keys();
    let other = keys_other();
    let config = SandboxConfig {
        jwt: Some(JwtConfig {
            technical_account_id: "tech@techacct.adobe.com".into(),
            public_key_pem: keys.public_pem.clone(),
        }),
        ..Default::default()
    };
    let app = App::new(config, small_org()).await;
    let exchange = |jwt: String, host: &'static str| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/ims/exchange/jwt/",
                &[FORM, ("host", host)],
                format!("client_id={CLIENT}&client_secret={SECRET}&jwt_token={jwt}"),
            )
            .await
        }
    };
    // As Adobe's clients build it against the real IMS host, and against the sandbox's host.
    let ok = exchange(
        sign(
            &keys.private_pem,
            &good_claims("https://ims-na1.adobelogin.com"),
        ),
        "127.0.0.1:9",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(
        ok.json()["expires_in"],
        86_400_000,
        "JWT expires_in is in milliseconds"
    );
    let token = ok.json()["access_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {token}");
    let r = app
        .send(
            Method::GET,
            &format!("/v2/usermanagement/groups/{ORG}/0"),
            &[("authorization", &auth), ("x-api-key", CLIENT)],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let local = exchange(
        sign(&keys.private_pem, &good_claims("https://127.0.0.1:9")),
        "127.0.0.1:9",
    )
    .await;
    assert_eq!(local.status, StatusCode::OK, "{}", local.text);

    let mut bad_cases: Vec<(&str, String)> = Vec::new();
    let base = good_claims("https://ims-na1.adobelogin.com");
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    bad_cases.push(("wrong key", sign(&other, &base)));
    bad_cases.push((
        "wrong iss",
        sign(&keys.private_pem, &with("iss", json!("OTHER@AdobeOrg"))),
    ));
    bad_cases.push((
        "wrong sub",
        sign(
            &keys.private_pem,
            &with("sub", json!("someone@techacct.adobe.com")),
        ),
    ));
    bad_cases.push((
        "wrong aud",
        sign(
            &keys.private_pem,
            &with("aud", json!("https://ims-na1.adobelogin.com/c/other")),
        ),
    ));
    bad_cases.push((
        "expired",
        sign(&keys.private_pem, &with("exp", json!(now() - 60))),
    ));
    let mut no_scope = base.clone();
    no_scope
        .as_object_mut()
        .unwrap()
        .remove("https://ims-na1.adobelogin.com/s/ent_user_sdk");
    bad_cases.push(("no metascope", sign(&keys.private_pem, &no_scope)));
    bad_cases.push(("not a jwt", "abc.def.ghi".into()));
    for (case, jwt) in bad_cases {
        let r = exchange(jwt, "127.0.0.1:9").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{case}: {}", r.text);
    }
    let wrong_secret = app
        .send(
            Method::POST,
            "/ims/exchange/jwt",
            &[FORM],
            format!(
                "client_id={CLIENT}&client_secret=nope&jwt_token={}",
                sign(&keys.private_pem, &base)
            ),
        )
        .await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
}

fn keys_other() -> String {
    keys().private_pem
}
