//! Timing constants for the simulator, in seconds, with their sources (doc §3.1, §3.10, §4, §5,
//! §7). The library's decisions take a clock value; these say when to call them.

use crate::catalog::InstanceType;

/// Provisioning batch: wait this long after the last pending pod before solving
/// (`BATCH_IDLE_DURATION`, core `operator/options/options.go`).
pub const BATCH_IDLE: i64 = 1;
/// …but never longer than this after the first (`BATCH_MAX_DURATION`).
pub const BATCH_MAX: i64 = 10;
/// A still-provisionable pod re-triggers provisioning this often (`provisioning/controller.go`).
pub const POD_REQUEUE: i64 = 10;
/// Batch done → instance launched: "an instance was launched ~1 second after a provisionable
/// pod was detected" (jmdeal, aws/karpenter-provider-aws#6128).
pub const LAUNCH_DELAY: i64 = 1;
/// Launch → Node registered: kubelet start & registration at 19–20 s on a c6a.large AL2
/// (awslabs/node-latency-for-k8s README).
pub const REGISTERED_AFTER_LAUNCH: i64 = 20;
/// Launch → Node Ready: 24–30 s in the same measurement; "about 30-40s" per a maintainer
/// (jonathan-innis, aws/karpenter-provider-aws#6165). The upper end of the measurement.
pub const READY_AFTER_LAUNCH: i64 = 30;
/// GPU, accelerator, metal and custom images: 60–120 s. A *derived suggestion* of the
/// reference (doc §5), not a measurement; the midpoint.
pub const SLOW_READY_AFTER_LAUNCH: i64 = 90;
/// A NodeClaim not launched within this is deleted (`lifecycle/liveness.go`).
pub const LAUNCH_TIMEOUT: i64 = 5 * 60;
/// A NodeClaim not registered within this of launch is deleted.
pub const REGISTRATION_TIMEOUT: i64 = 15 * 60;
/// Nodes chosen by a provisioning pass are not disruption candidates for
/// `max(2 × BATCH_MAX, 10 s)` (`state/statenode.go`).
pub const NOMINATION_WINDOW: i64 = 20;
/// The disruption controller runs this often when idle (`disruption/controller.go`).
pub const DISRUPTION_POLL: i64 = 10;
/// A consolidation decision is re-validated after this delay (`consolidation.go`).
pub const VALIDATION_DELAY: i64 = 15;
/// Consolidation state is forcibly re-evaluated at least this often (`state/cluster.go`).
pub const CONSOLIDATION_REEVALUATION: i64 = 5 * 60;
/// `lastPodEventTime` is written at most once per this interval (`nodeclaim/podevents`).
pub const LAST_POD_EVENT_DEDUPE: i64 = 10;
/// Spot interruption warning (disruption.md).
pub const SPOT_INTERRUPTION_NOTICE: i64 = 2 * 60;
/// An offering that failed with insufficient capacity is skipped this long (`aws:pkg/cache`).
pub const UNAVAILABLE_OFFERING_TTL: i64 = 3 * 60;
/// Multi-node and single-node consolidation time limits (`multinodeconsolidation.go`,
/// `singlenodeconsolidation.go`).
pub const MULTI_NODE_TIMEOUT: i64 = 60;
pub const SINGLE_NODE_TIMEOUT: i64 = 3 * 60;

/// The launch → Ready delay for an instance type: the slow figure for GPU, accelerator and
/// metal types, the measured one otherwise.
pub fn ready_after_launch(it: &InstanceType) -> i64 {
    if it.is_exotic() { SLOW_READY_AFTER_LAUNCH } else { READY_AFTER_LAUNCH }
}

/// Disruption command timeout: `clamp(80 ms × queued commands, 10 min, 1 h)` (`disruption/queue.go`).
pub fn command_timeout(queued_commands: i64) -> i64 {
    (queued_commands * 80 / 1000).clamp(10 * 60, 3_600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn delays_by_type_and_timeouts() {
        let c = Catalog::embedded();
        assert_eq!(ready_after_launch(c.get("m5.large").unwrap()), 30);
        assert_eq!(ready_after_launch(c.get("g5.xlarge").unwrap()), 90);
        assert_eq!(ready_after_launch(c.get("m5.metal").unwrap()), 90);
        assert_eq!(command_timeout(1), 600);
        assert_eq!(command_timeout(100_000), 3_600);
        assert_eq!(NOMINATION_WINDOW, (2 * BATCH_MAX).max(10));
    }
}
