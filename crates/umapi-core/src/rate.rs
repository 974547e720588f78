//! Proactive pacing under UMAPI's per-endpoint rate limits.
//!
//! Each endpoint class allows a number of requests per window (a minute for Adobe).
//! Before a request starts, the pacer waits until fewer than that many requests of
//! the class started in the last window plus a margin, so the client stays under the
//! limit instead of collecting 429s. A short run is not slowed down at all.
//!
//! The margin is there because the server counts requests when they arrive, not when
//! the client sends them: if one request is delayed in transit and the one sent a
//! window later is not, the server sees both inside one window. Spacing the starts by
//! `window + margin` absorbs any transit delay up to the margin.

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
///
/// Requests are spaced by `window + margin`; the default margin, 3 s (5 % of Adobe's
/// minute), absorbs network delays of up to 3 s between client and server.
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
    /// Extra wait added to the window, for requests that reach the server later than
    /// others (see the module documentation); 0 paces exactly one window apart.
    pub margin: Duration,
}

/// Adobe's window: limits count requests per minute.
pub const ADOBE_WINDOW: Duration = Duration::from_secs(60);

/// The default margin: 5 % of the window, 3 s at Adobe's minute.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(3);

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            users: Some(25),
            groups: Some(5),
            actions: Some(10),
            window: ADOBE_WINDOW,
            margin: DEFAULT_MARGIN,
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
            window: ADOBE_WINDOW,
            margin: DEFAULT_MARGIN,
        }
    }

    /// The same limits with window and margin divided by `time_scale`, for a server whose
    /// minute lasts `60 / time_scale` seconds (the sandbox's time scale). A scale that is
    /// not a positive number leaves them as they are.
    pub fn time_scaled(self, time_scale: f64) -> Self {
        let scale = |d: Duration| Duration::try_from_secs_f64(d.as_secs_f64() / time_scale).ok();
        if !(time_scale.is_finite() && time_scale > 0.0) {
            return self;
        }
        match (scale(self.window), scale(self.margin)) {
            (Some(window), Some(margin)) => Self {
                window,
                margin,
                ..self
            },
            _ => self,
        }
    }

    /// How far apart the pacer keeps the starts of a request and the one `limit`
    /// requests later: the window plus the margin.
    pub fn spacing(&self) -> Duration {
        self.window + self.margin
    }

    /// How long `requests` action requests wait for pacing: the first `actions` start
    /// at once, each further batch one [`RateLimits::spacing`] later. Server time is not
    /// included; zero without an action limit.
    pub fn action_pacing(&self, requests: u64) -> Duration {
        match self.actions {
            Some(limit) if requests > 0 => {
                let batches = (requests - 1) / u64::from(limit.max(1));
                self.spacing()
                    .saturating_mul(u32::try_from(batches).unwrap_or(u32::MAX))
            }
            _ => Duration::ZERO,
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
        let window = self.limits.spacing();
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
            margin: Duration::ZERO,
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
            margin: Duration::ZERO,
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

    #[tokio::test(start_paused = true)]
    async fn the_margin_spaces_each_request_from_the_one_a_limit_earlier() {
        let pacer = Pacer::new(RateLimits {
            actions: Some(10),
            ..RateLimits::default()
        });
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..30 {
            pacer.acquire(EndpointClass::Action).await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(10) {
            assert!(*t >= times[i - 10] + Duration::from_secs(63), "{times:?}");
        }
        // Three batches: at 0, 63 s and 126 s, as the estimate says.
        assert_eq!(times[29], Duration::from_secs(126));
        assert_eq!(
            RateLimits::default().action_pacing(30),
            Duration::from_secs(126)
        );
    }

    #[test]
    fn a_time_scale_shortens_window_and_margin_alike() {
        let scaled = RateLimits::default().time_scaled(60.0);
        assert_eq!(scaled.window, Duration::from_secs(1));
        assert_eq!(scaled.margin, Duration::from_millis(50));
        assert_eq!(scaled.actions, Some(10));
        assert_eq!(scaled.action_pacing(30), Duration::from_millis(2100));
        assert_eq!(
            RateLimits::default().time_scaled(0.0),
            RateLimits::default()
        );
        assert_eq!(RateLimits::unlimited().action_pacing(30), Duration::ZERO);
        assert_eq!(RateLimits::default().action_pacing(10), Duration::ZERO);
        assert_eq!(RateLimits::default().action_pacing(0), Duration::ZERO);
    }
}
