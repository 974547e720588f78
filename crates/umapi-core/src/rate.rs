//! Proactive pacing under UMAPI's per-endpoint rate limits.
//!
//! Each endpoint class allows a number of requests per window (a minute for Adobe).
//! Before a request starts, the pacer waits until fewer than that many requests of
//! the class started in the last window, so the client stays under the limit
//! instead of collecting 429s. A short run is not slowed down at all.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Requests allowed per window for each endpoint class; `None` = unlimited.
///
/// | class | default (Adobe's published limit) |
/// |---|---|
/// | users (lists and single user) | 25 per minute |
/// | groups | 5 per minute |
/// | action | 10 per minute |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// User list pages and single-user look-ups per window.
    pub users: Option<u32>,
    /// Group list pages per window.
    pub groups: Option<u32>,
    /// Action POSTs per window.
    pub actions: Option<u32>,
    /// The window the limits count over (a minute for Adobe).
    pub window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            users: Some(25),
            groups: Some(5),
            actions: Some(10),
            window: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    /// No pacing at all (for the sandbox and tests).
    pub fn unlimited() -> Self {
        Self {
            users: None,
            groups: None,
            actions: None,
            window: Duration::from_secs(60),
        }
    }

    fn limit(&self, class: EndpointClass) -> Option<u32> {
        match class {
            EndpointClass::Users => self.users,
            EndpointClass::Groups => self.groups,
            EndpointClass::Action => self.actions,
        }
    }
}

/// The endpoint classes UMAPI limits separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointClass {
    Users,
    Groups,
    Action,
}

/// Sliding-window pacer: one window of recent start times per class.
#[derive(Debug)]
pub(crate) struct Pacer {
    limits: RateLimits,
    users: Mutex<VecDeque<Instant>>,
    groups: Mutex<VecDeque<Instant>>,
    actions: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            users: Mutex::default(),
            groups: Mutex::default(),
            actions: Mutex::default(),
        }
    }

    /// Waits until a request of `class` may start, and records its start.
    /// Returns how long it waited.
    pub(crate) async fn acquire(&self, class: EndpointClass) -> Duration {
        let Some(limit) = self.limits.limit(class) else {
            return Duration::ZERO;
        };
        let limit = limit.max(1) as usize;
        let window = self.limits.window;
        let starts = match class {
            EndpointClass::Users => &self.users,
            EndpointClass::Groups => &self.groups,
            EndpointClass::Action => &self.actions,
        };
        // Holding the lock while sleeping queues callers in order, which is what a
        // limit shared by all tasks of the connection needs.
        let mut starts = starts.lock().await;
        let began = Instant::now();
        while starts.len() >= limit {
            let oldest = starts[0];
            let free_at = oldest + window;
            if free_at > Instant::now() {
                tracing::debug!(
                    ?class,
                    wait_ms = (free_at - Instant::now()).as_millis() as u64,
                    "pacing under the rate limit"
                );
                tokio::time::sleep_until(free_at).await;
            }
            starts.pop_front();
        }
        starts.push_back(Instant::now());
        began.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn allows_a_burst_then_spaces_requests_by_the_window() {
        let pacer = Pacer::new(RateLimits {
            actions: Some(3),
            window: Duration::from_secs(60),
            ..RateLimits::unlimited()
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(pacer.acquire(EndpointClass::Action).await, Duration::ZERO);
        }
        pacer.acquire(EndpointClass::Action).await;
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        // Other classes are independent and unlimited here.
        assert_eq!(pacer.acquire(EndpointClass::Users).await, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_limit_starts_in_any_window() {
        let pacer = Pacer::new(RateLimits {
            groups: Some(5),
            window: Duration::from_secs(60),
            ..RateLimits::unlimited()
        });
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            pacer.acquire(EndpointClass::Groups).await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(5) {
            assert!(*t >= times[i - 5] + Duration::from_secs(60), "{times:?}");
        }
        assert_eq!(times[11], Duration::from_secs(120));
    }
}
