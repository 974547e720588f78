//! Fault injection: exact responses by script (the next matching requests, in order) or at
//! random with a probability, per endpoint class.

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::observe::EndpointClass;

/// What happens to a request that meets a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// No fault: lets a script say "this request goes through".
    Pass,
    /// Answer with this status (and body, and `Retry-After`) instead of the real response.
    /// Without a body, 429 gets UMAPI's `{"error_code":"429050",…}` and others a small JSON error.
    Status {
        /// HTTP status.
        status: u16,
        /// Response body (JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
        /// `Retry-After` header value, verbatim (seconds or an HTTP date).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally (for client timeouts).
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Wait a random time between 0 and `max_ms` milliseconds (uniformly), then answer
    /// normally: network latency that varies from request to request. The wait happens
    /// before the rate limiter counts the request, as transit delay would, and is in the
    /// sandbox's time (divided by `time_scale`, like the rate-limit window).
    Jitter {
        /// Longest wait, in milliseconds of sandbox time.
        max_ms: u64,
    },
    /// Close the connection without any response.
    Drop,
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
    /// Serve the request for real (an action request commits its changes), then answer with
    /// the real status and headers but close the connection halfway through the body.
    Truncated,
    /// Serve the request for real (an action request commits its changes), then wait this
    /// long before answering: a client that times out first never learns the outcome.
    DelayAfter {
        /// Milliseconds.
        ms: u64,
    },
    /// Serve the request for real (an action request commits its changes), then answer 200
    /// with this body instead of the real one: a server that misreports what it did.
    Rewrite {
        /// Response body (JSON).
        body: serde_json::Value,
    },
    /// Expire the access token the request carries, so it is answered 401.
    ExpireToken,
}

impl Fault {
    /// Short name for the request log.
    pub fn name(&self) -> String {
        match self {
            Fault::Pass => "pass".into(),
            Fault::Status { status, .. } => format!("status {status}"),
            Fault::Delay { ms } => format!("delay {ms}ms"),
            Fault::Jitter { max_ms } => format!("jitter ≤{max_ms}ms"),
            Fault::Drop => "drop".into(),
            Fault::Malformed => "malformed".into(),
            Fault::Truncated => "truncated".into(),
            Fault::DelayAfter { ms } => format!("delay_after {ms}ms"),
            Fault::Rewrite { .. } => "rewrite".into(),
            Fault::ExpireToken => "expire_token".into(),
        }
    }
}

/// A fault for the next request of a class (any class when `endpoint` is absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedFault {
    /// Class of request it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointClass>,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
}

/// A fault that hits each request of a class with a probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomFault {
    /// Class of request it applies to (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointClass>,
    /// Probability in [0, 1].
    pub probability: f64,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
}

/// Every fault the sandbox will inject: `POST /_sandbox/faults` takes and `GET` returns this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Consumed in order: each request takes the first scripted fault that matches its class.
    #[serde(default)]
    pub script: VecDeque<ScriptedFault>,
    /// Checked for every request that no scripted fault matched.
    #[serde(default)]
    pub random: Vec<RandomFault>,
}

impl FaultPlan {
    /// The fault for a request of `class`, if any.
    pub fn next(&mut self, class: EndpointClass, rng: &mut impl Rng) -> Option<Fault> {
        let matches = |e: &Option<EndpointClass>| e.is_none_or(|c| c == class);
        if let Some(pos) = self.script.iter().position(|s| matches(&s.endpoint)) {
            return self.script.remove(pos).map(|s| s.fault);
        }
        for r in &self.random {
            if matches(&r.endpoint) && rng.random_bool(r.probability.clamp(0.0, 1.0)) {
                return Some(r.fault.clone());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn script_is_consumed_in_order_per_class() {
        let mut plan: FaultPlan = serde_json::from_value(serde_json::json!({
            "script": [
                {"endpoint": "action", "kind": "status", "status": 503},
                {"kind": "drop"},
                {"endpoint": "action", "kind": "pass"}
            ]
        }))
        .unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(plan.next(EndpointClass::Users, &mut rng), Some(Fault::Drop));
        assert!(matches!(
            plan.next(EndpointClass::Action, &mut rng),
            Some(Fault::Status { status: 503, .. })
        ));
        assert_eq!(
            plan.next(EndpointClass::Action, &mut rng),
            Some(Fault::Pass)
        );
        assert_eq!(plan.next(EndpointClass::Action, &mut rng), None);
    }

    #[test]
    fn random_faults_hit_about_their_probability() {
        let mut plan = FaultPlan {
            random: vec![RandomFault {
                endpoint: Some(EndpointClass::Users),
                probability: 0.25,
                fault: Fault::Malformed,
            }],
            ..Default::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let hits = (0..4000)
            .filter(|_| plan.next(EndpointClass::Users, &mut rng).is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
        assert_eq!(plan.next(EndpointClass::Groups, &mut rng), None);
    }
}
