//! Per-client rate limits by endpoint class, with a time scale so tests can run UMAPI's real
//! per-minute limits in a fraction of the time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::RateLimitConfig;
use crate::observe::EndpointClass;

/// Sliding one-minute windows per (client, limit class).
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<(String, &'static str), VecDeque<Instant>>,
}

impl Limiter {
    /// Admits a request or tells how long (in real time) the client must wait.
    pub fn admit(
        &mut self,
        config: &RateLimitConfig,
        time_scale: f64,
        client: &str,
        class: EndpointClass,
        now: Instant,
    ) -> Result<(), Duration> {
        let (bucket, limit) = match class {
            // The single-user lookup shares the users limit, as in UMAPI.
            EndpointClass::Users | EndpointClass::User => ("users", config.users_per_minute),
            EndpointClass::Groups => ("groups", config.groups_per_minute),
            EndpointClass::Action => ("action", config.action_per_minute),
            EndpointClass::Token | EndpointClass::Other => return Ok(()),
        };
        let scale = if time_scale > 0.0 { time_scale } else { 1.0 };
        let window = Duration::from_secs_f64(60.0 / scale);
        let times = self
            .windows
            .entry((client.to_string(), bucket))
            .or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() as u64 >= u64::from(limit) {
            // With a limit of 0 nothing is ever admitted: wait a whole window.
            let wait = times.front().map_or(window, |oldest| {
                window.saturating_sub(now.duration_since(*oldest))
            });
            return Err(wait.max(Duration::from_millis(1)));
        }
        times.push_back(now);
        Ok(())
    }

    /// Forgets every window.
    pub fn clear(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_closes_and_reopens_at_the_scaled_minute() {
        let cfg = RateLimitConfig {
            users_per_minute: 2,
            groups_per_minute: 1,
            action_per_minute: 1,
        };
        let mut l = Limiter::default();
        let t0 = Instant::now();
        // time scale 60: a minute lasts one second
        assert!(l.admit(&cfg, 60.0, "c", EndpointClass::Users, t0).is_ok());
        assert!(l.admit(&cfg, 60.0, "c", EndpointClass::User, t0).is_ok());
        let wait = l
            .admit(&cfg, 60.0, "c", EndpointClass::Users, t0)
            .unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        // other clients and classes have their own windows
        assert!(
            l.admit(&cfg, 60.0, "other", EndpointClass::Users, t0)
                .is_ok()
        );
        assert!(l.admit(&cfg, 60.0, "c", EndpointClass::Groups, t0).is_ok());
        assert!(l.admit(&cfg, 60.0, "c", EndpointClass::Token, t0).is_ok());
        let later = t0 + Duration::from_millis(1001);
        assert!(
            l.admit(&cfg, 60.0, "c", EndpointClass::Users, later)
                .is_ok()
        );
    }

    #[test]
    fn a_zero_limit_refuses_everything_for_a_window() {
        let cfg = RateLimitConfig {
            users_per_minute: 0,
            ..RateLimitConfig::default()
        };
        let wait = Limiter::default()
            .admit(&cfg, 1.0, "c", EndpointClass::Users, Instant::now())
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
    }
}
