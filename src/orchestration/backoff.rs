//! How long a step waits before its next attempt.

/// The longest wait before a retry, one day (like the longest `timeout_seconds`).
/// Registration refuses larger `backoff_base_seconds` and `max_backoff_seconds`, and every
/// delay is clamped to it, so a retry is always a timestamp PostgreSQL can store.
pub const MAX_BACKOFF_SECONDS: f64 = 86_400.0;

/// Retry spacing for one step (template values over configuration defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    pub base_seconds: f64,
    pub max_seconds: f64,
    /// Fraction of the delay added or removed at random (0.1 = +-10%).
    pub jitter: f64,
}

impl BackoffPolicy {
    /// Delay before attempt `failed_attempt + 1`, always within [0, cap] (see `cap`).
    /// A handler's `retry_after` wins, clamped to the cap (a huge or infinite request waits
    /// the cap; NaN or a negative number is no request). Otherwise `base * 2^(failed_attempt-1)`
    /// with jitter, capped. `unit` is a number in [0, 1) that picks the jitter (random in
    /// production, fixed in tests).
    pub fn delay_seconds(&self, failed_attempt: i32, retry_after: Option<f64>, unit: f64) -> f64 {
        let cap = self.cap();
        if let Some(requested) = retry_after.filter(|s| *s >= 0.0) {
            return requested.min(cap);
        }
        let exponent = (failed_attempt.max(1) - 1).min(62);
        let raw = self.base_seconds * 2f64.powi(exponent);
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let jittered = raw * (1.0 + jitter * (2.0 * unit - 1.0));
        if jittered.is_nan() {
            cap
        } else {
            jittered.clamp(0.0, cap)
        }
    }

    /// `max_seconds` within [0, MAX_BACKOFF_SECONDS], whatever a step row or the
    /// configuration holds (a NaN counts as the longest wait).
    pub fn cap(&self) -> f64 {
        if self.max_seconds.is_nan() {
            MAX_BACKOFF_SECONDS
        } else {
            self.max_seconds.clamp(0.0, MAX_BACKOFF_SECONDS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BackoffPolicy = BackoffPolicy {
        base_seconds: 1.0,
        max_seconds: 300.0,
        jitter: 0.1,
    };

    #[test]
    fn doubles_per_attempt_without_jitter_at_midpoint() {
        let d: Vec<f64> = (1..=5)
            .map(|a| POLICY.delay_seconds(a, None, 0.5))
            .collect();
        assert_eq!(d, vec![1.0, 2.0, 4.0, 8.0, 16.0]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        assert!((POLICY.delay_seconds(4, None, 0.0) - 7.2).abs() < 1e-9);
        assert!((POLICY.delay_seconds(4, None, 1.0) - 8.8).abs() < 1e-9);
    }

    #[test]
    fn caps_and_handler_requests() {
        assert_eq!(POLICY.delay_seconds(30, None, 1.0), 300.0);
        assert_eq!(POLICY.delay_seconds(1, Some(30.0), 0.9), 30.0);
        assert_eq!(POLICY.delay_seconds(1, Some(10_000.0), 0.9), 300.0);
        assert_eq!(POLICY.delay_seconds(1, Some(0.0), 0.9), 0.0);
    }

    #[test]
    fn any_requested_delay_is_clamped_to_max_backoff_seconds() {
        assert_eq!(POLICY.delay_seconds(1, Some(1e300), 0.5), 300.0);
        assert_eq!(POLICY.delay_seconds(1, Some(f64::MAX), 0.5), 300.0);
        assert_eq!(POLICY.delay_seconds(1, Some(f64::INFINITY), 0.5), 300.0);
        // Not a request at all: the exponential delay of attempt 2.
        assert_eq!(POLICY.delay_seconds(2, Some(f64::NAN), 0.5), 2.0);
        assert_eq!(POLICY.delay_seconds(2, Some(-5.0), 0.5), 2.0);
        assert_eq!(POLICY.delay_seconds(2, Some(f64::NEG_INFINITY), 0.5), 2.0);
    }

    #[test]
    fn no_policy_value_makes_a_delay_past_one_day() {
        let huge = BackoffPolicy {
            base_seconds: 1e300,
            max_seconds: 1e308,
            jitter: 0.1,
        };
        assert_eq!(huge.delay_seconds(1, Some(1e300), 0.5), MAX_BACKOFF_SECONDS);
        assert_eq!(huge.delay_seconds(40, None, 0.9), MAX_BACKOFF_SECONDS);
        let broken = BackoffPolicy {
            base_seconds: f64::NAN,
            max_seconds: f64::INFINITY,
            jitter: f64::NAN,
        };
        assert_eq!(broken.delay_seconds(3, None, f64::NAN), MAX_BACKOFF_SECONDS);
        assert_eq!(broken.delay_seconds(3, Some(60.0), 0.5), 60.0);
        let nan_cap = BackoffPolicy {
            max_seconds: f64::NAN,
            ..POLICY
        };
        assert_eq!(
            nan_cap.delay_seconds(1, Some(1e9), 0.5),
            MAX_BACKOFF_SECONDS
        );
        let negative = BackoffPolicy {
            base_seconds: -4.0,
            max_seconds: -1.0,
            jitter: 0.1,
        };
        assert_eq!(negative.delay_seconds(2, None, 0.5), 0.0);
        assert_eq!(negative.delay_seconds(2, Some(5.0), 0.5), 0.0);
    }
}
