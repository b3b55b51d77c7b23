//! Timing and event texts of a Fargate pod's life, for the simulator (doc §1.1, §1.2, §4, §7).

use kubesched_core::rng::Rng;

/// Observed seconds from pod creation to the `Scheduled` event, i.e. until the per-pod node
/// registered (doc §4.2: eu-west-1 33 s, ap-northeast-2 ≈38 s, us-west-2 ≈12 s,
/// ap-southeast-1 ≈51 s, us-east-1 ≈42 s, keyspaces demo ≈44 s).
pub const OBSERVED_PROVISIONING_SECS: [u64; 6] = [33, 38, 12, 51, 42, 44];
/// Default provisioning delay: the median of [`OBSERVED_PROVISIONING_SECS`] (40 s).
pub const DEFAULT_PROVISIONING_DELAY_MS: u64 = 40_000;
/// The doc's suggested model: provisioning takes ≈ 30–50 s (doc §4.2).
pub const PROVISIONING_DELAY_MIN_MS: u64 = 30_000;
pub const PROVISIONING_DELAY_MAX_MS: u64 = 50_000;
/// Firecracker: ≤ 125 ms from `InstanceStart` to guest `/sbin/init` (doc §7). Part of the
/// provisioning delay, never all of it: the doc warns against modelling Fargate at 125 ms.
pub const MICROVM_BOOT_MS: u64 = 125;
/// Billing minimum (doc §4.4, §5).
pub const BILLING_MINIMUM_SECS: u64 = 60;
/// Creating a Fargate profile: ≈ 2 min 10 s in one eksctl log (doc §1.1).
pub const PROFILE_CREATION_MS: u64 = 130_000;
/// Launch-rate token bucket for accounts launching only EKS pods: burst 20, refill 20/s
/// (doc §1.2, ECS throttling quotas).
pub const LAUNCH_BURST_EKS_ONLY: u32 = 20;
pub const LAUNCH_REFILL_PER_SEC: u32 = 20;

/// `FailedScheduling` text while capacity is late; Fargate retries by itself (doc §4.1).
pub const PROVISIONING_TIMEOUT_MESSAGE: &str = "Pod provisioning timed out (will retry) for pod";
/// Event source of everything fargate-scheduler reports.
pub const EVENT_SOURCE: &str = "fargate-scheduler";

/// `Successfully assigned <ns>/<pod> to <node>` (doc §4.1).
pub fn scheduled_message(namespace: &str, pod: &str, node: &str) -> String {
    format!("Successfully assigned {namespace}/{pod} to {node}")
}

/// How long a pod waits for its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisioningDelay {
    Fixed {
        ms: u64,
    },
    /// Uniform in `min_ms..=max_ms`, drawn from the simulator's seeded RNG.
    Uniform {
        min_ms: u64,
        max_ms: u64,
    },
}

impl Default for ProvisioningDelay {
    /// Uniform 30–50 s (doc §4.2), mean 40 s.
    fn default() -> Self {
        ProvisioningDelay::Uniform { min_ms: PROVISIONING_DELAY_MIN_MS, max_ms: PROVISIONING_DELAY_MAX_MS }
    }
}

impl ProvisioningDelay {
    /// Checks the configuration: the delay includes the micro-VM boot, so it cannot be
    /// shorter than [`MICROVM_BOOT_MS`]; `min_ms <= max_ms`.
    pub fn validate(&self) -> Result<(), String> {
        let (lo, hi) = match *self {
            ProvisioningDelay::Fixed { ms } => (ms, ms),
            ProvisioningDelay::Uniform { min_ms, max_ms } => (min_ms, max_ms),
        };
        if lo > hi {
            return Err(format!("provisioning delay minimum {lo} ms is above the maximum {hi} ms"));
        }
        if lo < MICROVM_BOOT_MS {
            return Err(format!(
                "provisioning delay {lo} ms is shorter than the {MICROVM_BOOT_MS} ms micro-VM boot it includes"
            ));
        }
        Ok(())
    }

    /// One delay in milliseconds.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        match *self {
            ProvisioningDelay::Fixed { ms } => ms,
            ProvisioningDelay::Uniform { min_ms, max_ms } if max_ms > min_ms => min_ms + rng.below(max_ms - min_ms + 1),
            ProvisioningDelay::Uniform { min_ms, .. } => min_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_delay_is_the_observed_median_band() {
        let mut sorted = OBSERVED_PROVISIONING_SECS;
        sorted.sort_unstable();
        let median_ms = (sorted[2] + sorted[3]) * 1000 / 2;
        assert_eq!(median_ms, DEFAULT_PROVISIONING_DELAY_MS);
        let d = ProvisioningDelay::default();
        assert!(d.validate().is_ok());
        let mut rng = Rng::new(7);
        let samples: Vec<u64> = (0..1000).map(|_| d.sample(&mut rng)).collect();
        assert!(samples.iter().all(|&s| (30_000..=50_000).contains(&s)));
        let mean = samples.iter().sum::<u64>() / samples.len() as u64;
        assert!((39_000..=41_000).contains(&mean), "{mean}");
        // Same seed, same delays.
        let mut again = Rng::new(7);
        assert_eq!(d.sample(&mut again), samples[0]);
    }

    #[test]
    fn configuration_checks() {
        assert!(ProvisioningDelay::Fixed { ms: 100 }.validate().is_err());
        assert!(ProvisioningDelay::Fixed { ms: 125 }.validate().is_ok());
        assert!(ProvisioningDelay::Uniform { min_ms: 5000, max_ms: 1000 }.validate().is_err());
        assert_eq!(ProvisioningDelay::Fixed { ms: 40_000 }.sample(&mut Rng::new(1)), 40_000);
        assert_eq!(ProvisioningDelay::Uniform { min_ms: 900, max_ms: 900 }.sample(&mut Rng::new(1)), 900);
    }

    #[test]
    fn event_texts() {
        assert_eq!(
            scheduled_message("default", "web-1", "fargate-ip-10-42-11-96.us-west-2.compute.internal"),
            "Successfully assigned default/web-1 to fargate-ip-10-42-11-96.us-west-2.compute.internal"
        );
    }
}
