//! When and how long to wait before trying a failed request again.
//!
//! Throttling (429), gateway failures (502, 503, 504), timeouts and connection
//! errors are retried; a 500 and other 4xx are not. A `Retry-After` header (seconds
//! or an HTTP date) wins over the computed back-off, which doubles per attempt,
//! is capped, and has random jitter added so that many clients do not retry in step.

use std::time::{Duration, SystemTime};

/// How the connection retries requests that failed for a transient reason.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `max_attempts` | 6 | tries per request, the first included |
/// | `initial_backoff` | 2 s | wait before the 2nd try when the server gives no `Retry-After` |
/// | `max_backoff` | 60 s | cap of the doubling back-off |
/// | `jitter` | 1 s | up to this much random time is added to a computed back-off |
/// | `max_total_wait` | 30 min | give up when the waits of one request would add up to more |
/// | `wait_cap` | none | if set, every actual sleep is cut to this (tests use 0) |
///
/// Real `Retry-After` values reach tens of minutes, hence the generous total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Back-off before the second try, doubled for every further try.
    pub initial_backoff: Duration,
    /// Cap of the computed back-off (a server's `Retry-After` is not capped by it).
    pub max_backoff: Duration,
    /// Upper bound of the random time added to a computed back-off.
    pub jitter: Duration,
    /// Give up (with `Error::Unavailable`) when the intended waits of one request
    /// would exceed this.
    pub max_total_wait: Duration,
    /// If set, each sleep is at most this long. The intended delay is still computed,
    /// logged and counted in the connection's statistics, so tests can check
    /// `Retry-After` handling without sleeping.
    pub wait_cap: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            jitter: Duration::from_secs(1),
            max_total_wait: Duration::from_secs(30 * 60),
            wait_cap: None,
        }
    }
}

impl RetryPolicy {
    /// The default attempts and delays, but never sleeping: for tests.
    pub fn no_delay() -> Self {
        Self {
            wait_cap: Some(Duration::ZERO),
            ..Self::default()
        }
    }

    /// Never retry.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The intended wait after the failed attempt number `attempt` (1-based): the
    /// server's `Retry-After` when it gave one, else the capped doubling back-off
    /// plus jitter.
    pub fn intended_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(server_says) = retry_after {
            return server_says;
        }
        let doublings = attempt.saturating_sub(1).min(30);
        let backoff = self
            .initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.jitter.mul_f64(rand::random::<f64>())
        };
        backoff + jitter
    }

    /// How long to actually sleep for an intended delay.
    pub fn actual_delay(&self, intended: Duration) -> Duration {
        match self.wait_cap {
            Some(cap) => intended.min(cap),
            None => intended,
        }
    }
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (a date in the past
/// means "now"). Anything else is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether a response status is worth another try.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(90))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_bounds() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(10),
            jitter: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        for (attempt, base) in [(1, 2), (2, 4), (3, 8), (4, 10), (20, 10)] {
            let d = policy.intended_delay(attempt, None);
            let base = Duration::from_secs(base);
            assert!(
                d >= base && d <= base + Duration::from_millis(500),
                "{attempt}: {d:?}"
            );
        }
        assert_eq!(
            policy.intended_delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(600),
            "Retry-After wins and is not capped by max_backoff"
        );
    }

    #[test]
    fn wait_cap_limits_only_the_sleep() {
        let policy = RetryPolicy::no_delay();
        assert_eq!(policy.actual_delay(Duration::from_secs(5)), Duration::ZERO);
        assert_eq!(
            RetryPolicy::default().actual_delay(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn only_throttling_and_gateway_errors_are_retryable() {
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [400, 401, 403, 404, 409, 500, 501] {
            assert!(!is_retryable_status(s));
        }
    }
}
