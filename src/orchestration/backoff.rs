//! How long a step waits before its next attempt.

/// Retry spacing for one step (template values over configuration defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    pub base_seconds: f64,
    pub max_seconds: f64,
    /// Fraction of the delay added or removed at random (0.1 = +-10%).
    pub jitter: f64,
}

impl BackoffPolicy {
    /// Delay before attempt `failed_attempt + 1`. A handler's `retry_after` wins (capped);
    /// otherwise `base * 2^(failed_attempt-1)` with jitter, capped. `unit` is a number in
    /// [0, 1) that picks the jitter (random in production, fixed in tests).
    pub fn delay_seconds(&self, failed_attempt: i32, retry_after: Option<f64>, unit: f64) -> f64 {
        if let Some(requested) = retry_after.filter(|s| s.is_finite() && *s >= 0.0) {
            return requested.min(self.max_seconds);
        }
        let exponent = (failed_attempt.max(1) - 1).min(62);
        let raw = self.base_seconds * 2f64.powi(exponent);
        let jittered = raw * (1.0 + self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0));
        jittered.clamp(0.0, self.max_seconds)
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
        assert_eq!(POLICY.delay_seconds(2, Some(f64::NAN), 0.5), 2.0);
    }
}
