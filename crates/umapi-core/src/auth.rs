//! Access tokens: how to ask Adobe's identity service (IMS) for one, and the cache
//! that keeps it until shortly before it expires.
//!
//! Two ways to get a token: OAuth server-to-server (`client_credentials` to
//! `/ims/token/v2`, `expires_in` in seconds) and the legacy JWT exchange (an RS256
//! JWT to `/ims/exchange/jwt/`, `expires_in` in milliseconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::time::Instant;

use crate::error::Error;
use crate::secret::Secret;

/// OAuth scopes UMAPI needs.
pub const OAUTH_SCOPES: &str = "openid,AdobeID,user_management_sdk";
/// Path of the OAuth server-to-server token endpoint on the IMS host.
pub const OAUTH_TOKEN_PATH: &str = "/ims/token/v2";
/// Path of the JWT exchange endpoint on the IMS host.
pub const JWT_EXCHANGE_PATH: &str = "/ims/exchange/jwt/";
/// How long the JWT asserting the technical account is valid.
const JWT_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Refresh at most this long before expiry …
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// … or at a tenth of the token's lifetime, whichever is shorter.
const REFRESH_MARGIN_DIVISOR: u32 = 10;

/// Credentials of a legacy JWT ("service account") integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtCredentials {
    /// The integration's client id (API key).
    pub client_id: String,
    /// The integration's client secret.
    pub client_secret: Secret,
    /// The technical account id (`…@techacct.adobe.com`).
    pub technical_account_id: String,
    /// The unencrypted RSA private key, PEM (PKCS#1 or PKCS#8).
    pub private_key_pem: Secret,
}

/// A token endpoint's URL and the form fields to post to it.
pub(crate) type TokenRequest = (String, Vec<(&'static str, Secret)>);

/// How the connection authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// OAuth server-to-server.
    OAuth {
        /// The integration's client id (API key).
        client_id: String,
        /// The integration's client secret.
        client_secret: Secret,
    },
    /// The legacy JWT exchange.
    Jwt(JwtCredentials),
}

impl Credentials {
    /// The client id, also sent as `x-api-key` on every UMAPI call.
    pub fn client_id(&self) -> &str {
        match self {
            Credentials::OAuth { client_id, .. } => client_id,
            Credentials::Jwt(jwt) => &jwt.client_id,
        }
    }

    /// The token endpoint's URL on `ims_host` and the form to post to it.
    pub(crate) fn token_request(
        &self,
        ims_host: &str,
        org_id: &str,
    ) -> Result<TokenRequest, Error> {
        let base = ims_host.trim_end_matches('/');
        match self {
            Credentials::OAuth {
                client_id,
                client_secret,
            } => Ok((
                format!("{base}{OAUTH_TOKEN_PATH}"),
                vec![
                    ("grant_type", Secret::new("client_credentials")),
                    ("client_id", Secret::new(client_id.clone())),
                    ("client_secret", client_secret.clone()),
                    ("scope", Secret::new(OAUTH_SCOPES)),
                ],
            )),
            Credentials::Jwt(jwt) => {
                let token = signed_jwt(jwt, ims_host, org_id, SystemTime::now())?;
                Ok((
                    format!("{base}{JWT_EXCHANGE_PATH}"),
                    vec![
                        ("client_id", Secret::new(jwt.client_id.clone())),
                        ("client_secret", jwt.client_secret.clone()),
                        ("jwt_token", token),
                    ],
                ))
            }
        }
    }

    /// Reads the token endpoint's answer; JWT lifetimes come in milliseconds, OAuth's in seconds.
    pub(crate) fn parse_token_response(&self, body: &[u8]) -> Result<(Secret, Duration), Error> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: u64,
        }
        let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| Error::Auth {
            message: format!("the identity service sent an unreadable token response: {e}"),
            status: None,
        })?;
        let lifetime = match self {
            Credentials::OAuth { .. } => Duration::from_secs(parsed.expires_in),
            Credentials::Jwt(_) => Duration::from_millis(parsed.expires_in),
        };
        Ok((Secret::new(parsed.access_token), lifetime))
    }
}

/// The host part of an IMS base URL, as the JWT's audience and metascope use it.
fn ims_host_name(ims_host: &str) -> &str {
    let without_scheme = ims_host
        .split_once("://")
        .map_or(ims_host, |(_, rest)| rest);
    without_scheme.trim_end_matches('/')
}

/// The RS256 JWT that asserts the technical account, with exactly the claims IMS
/// expects: `exp`, `iss`, `sub`, `aud` and the `ent_user_sdk` metascope. Like
/// Adobe's client, audience and metascope always name the host with `https://`.
pub fn signed_jwt(
    jwt: &JwtCredentials,
    ims_host: &str,
    org_id: &str,
    now: SystemTime,
) -> Result<Secret, Error> {
    let host = ims_host_name(ims_host);
    let exp = (now + JWT_LIFETIME)
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Config("the system clock is before 1970".into()))?
        .as_secs();
    let mut claims = serde_json::Map::new();
    claims.insert("exp".into(), exp.into());
    claims.insert("iss".into(), org_id.into());
    claims.insert("sub".into(), jwt.technical_account_id.clone().into());
    claims.insert(
        "aud".into(),
        format!("https://{host}/c/{}", jwt.client_id).into(),
    );
    claims.insert(format!("https://{host}/s/ent_user_sdk"), true.into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(jwt.private_key_pem.expose().as_bytes())
        .map_err(|e| {
            // The error names the problem with the key, never its content.
            Error::Config(format!(
                "the JWT private key is not a usable unencrypted RSA key in PEM form: {e}"
            ))
        })?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key)
        .map(Secret::new)
        .map_err(|e| Error::Config(format!("signing the JWT failed: {e}")))
}

/// A token and when to stop using it.
#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    pub(crate) value: Secret,
    refresh_at: Instant,
}

impl CachedToken {
    pub(crate) fn new(value: Secret, lifetime: Duration, fetched_at: Instant) -> Self {
        let margin = (lifetime / REFRESH_MARGIN_DIVISOR).min(MAX_REFRESH_MARGIN);
        Self {
            value,
            refresh_at: fetched_at + lifetime.saturating_sub(margin),
        }
    }

    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_ahead_of_expiry() {
        let t0 = Instant::now();
        let day = CachedToken::new(Secret::new("t"), Duration::from_secs(86_400), t0);
        assert!(day.is_fresh(t0 + Duration::from_secs(86_400 - 301)));
        assert!(!day.is_fresh(t0 + Duration::from_secs(86_400 - 299)));
        let short = CachedToken::new(Secret::new("t"), Duration::from_secs(10), t0);
        assert!(short.is_fresh(t0 + Duration::from_secs(8)));
        assert!(!short.is_fresh(t0 + Duration::from_secs(9)));
        let expired = CachedToken::new(Secret::new("t"), Duration::ZERO, t0);
        assert!(!expired.is_fresh(t0));
    }

    #[test]
    fn expires_in_is_seconds_for_oauth_and_milliseconds_for_jwt() {
        let oauth = Credentials::OAuth {
            client_id: "id".into(),
            client_secret: Secret::new("s"),
        };
        let jwt = Credentials::Jwt(JwtCredentials {
            client_id: "id".into(),
            client_secret: Secret::new("s"),
            technical_account_id: "t".into(),
            private_key_pem: Secret::new("k"),
        });
        let body = br#"{"access_token":"abc","token_type":"bearer","expires_in":86400000}"#;
        assert_eq!(
            jwt.parse_token_response(body).unwrap().1,
            Duration::from_secs(86_400)
        );
        let body = br#"{"access_token":"abc","token_type":"bearer","expires_in":86399}"#;
        assert_eq!(
            oauth.parse_token_response(body).unwrap().1,
            Duration::from_secs(86_399)
        );
        assert!(matches!(
            oauth.parse_token_response(b"<html>"),
            Err(Error::Auth { .. })
        ));
    }

    #[test]
    fn ims_host_name_strips_scheme_and_slash() {
        assert_eq!(
            ims_host_name("https://ims-na1.adobelogin.com/"),
            "ims-na1.adobelogin.com"
        );
        assert_eq!(ims_host_name("127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
