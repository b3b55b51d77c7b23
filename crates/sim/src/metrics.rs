//! Metrics over time and the final report: pending / running / unschedulable counts, scheduling
//! latency, allocation per resource, per-node utilization, and the fragmentation view (how many
//! pods of each size the free capacity could still hold).

use crate::controllers::OwnerId;
use crate::engine::{Engine, Phase};
use crate::report::{Allocation, Fragmentation, Latency, NodeState, PodState, Report, Sample, Summary};
use crate::time::{format_duration, seconds};
use kubesched_core::Sym;
use kubesched_core::snapshot::NodeInfo;
use std::collections::BTreeMap;

/// The pod sizes of the fragmentation view.
pub const GPU_SIZES: [i64; 4] = [1, 2, 4, 8];
pub const CPU_SIZES: [i64; 4] = [1, 2, 4, 8];

/// GPU slots, CPU slots, free GPUs, free milli-CPU, GPU nodes by free GPUs.
type Slots = (BTreeMap<String, i64>, BTreeMap<String, i64>, i64, i64, BTreeMap<String, usize>);

const GIB: f64 = (1u64 << 30) as f64;

fn pct(used: f64, total: f64) -> f64 {
    if total <= 0.0 { 0.0 } else { (used / total * 1000.0).round() / 10.0 }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: u32) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() as u64 * p as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

pub fn latency(values: &[u64]) -> Latency {
    let mut v = values.to_vec();
    v.sort_unstable();
    let sum: u128 = v.iter().map(|&x| x as u128).sum();
    let mean = if v.is_empty() { 0 } else { (sum / v.len() as u128) as u64 };
    Latency {
        count: v.len(),
        mean: seconds(mean),
        p50: seconds(percentile(&v, 50)),
        p90: seconds(percentile(&v, 90)),
        p99: seconds(percentile(&v, 99)),
        max: seconds(v.last().copied().unwrap_or(0)),
    }
}

/// Free GPUs and CPU of a node, and whether it counts for the fragmentation view (Ready and
/// not cordoned).
fn free_of(info: &NodeInfo) -> (i64, i64) {
    let free = info.free();
    (free.scalar(Sym::NVIDIA_GPU).max(0), free.cpu.max(0))
}

impl Engine<'_> {
    fn ready_nodes(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        self.nodes.iter().filter(|n| n.failed.is_none()).filter_map(|n| n.id).map(|id| self.snapshot.node(id))
    }

    fn allocation(&self) -> Vec<Allocation> {
        let (mut cpu, mut cpu_a, mut mem, mut mem_a, mut gpu, mut gpu_a) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
        for n in self.ready_nodes() {
            cpu += n.requested.cpu;
            cpu_a += n.node.allocatable.cpu;
            mem += n.requested.memory;
            mem_a += n.node.allocatable.memory;
            gpu += n.requested.scalar(Sym::NVIDIA_GPU);
            gpu_a += n.node.allocatable.scalar(Sym::NVIDIA_GPU);
        }
        let mut out = vec![
            Allocation {
                resource: "cpu".into(),
                requested: cpu as f64 / 1000.0,
                allocatable: cpu_a as f64 / 1000.0,
                percent: pct(cpu as f64, cpu_a as f64),
            },
            Allocation {
                resource: "memory".into(),
                requested: (mem as f64 / GIB * 10.0).round() / 10.0,
                allocatable: (mem_a as f64 / GIB * 10.0).round() / 10.0,
                percent: pct(mem as f64, mem_a as f64),
            },
        ];
        let has_gpus = self.snapshot.nodes().any(|n| n.node.allocatable.scalar(Sym::NVIDIA_GPU) > 0);
        if has_gpus {
            out.push(Allocation {
                resource: "nvidia.com/gpu".into(),
                requested: gpu as f64,
                allocatable: gpu_a as f64,
                percent: pct(gpu as f64, gpu_a as f64),
            });
        }
        out
    }

    fn slots(&self) -> Slots {
        let mut gpu_slots: BTreeMap<String, i64> = BTreeMap::new();
        let mut cpu_slots: BTreeMap<String, i64> = BTreeMap::new();
        let has_gpus = self.snapshot.nodes().any(|n| n.node.allocatable.scalar(Sym::NVIDIA_GPU) > 0);
        let (mut free_gpus, mut free_cpu) = (0i64, 0i64);
        let mut by_free: BTreeMap<i64, usize> = BTreeMap::new();
        for n in self.ready_nodes().filter(|n| !n.node.unschedulable) {
            let (g, c) = free_of(n);
            free_gpus += g;
            free_cpu += c;
            if n.node.allocatable.scalar(Sym::NVIDIA_GPU) > 0 {
                *by_free.entry(g).or_default() += 1;
            }
            if has_gpus {
                for s in GPU_SIZES {
                    *gpu_slots.entry(s.to_string()).or_default() += g / s;
                }
            }
            for s in CPU_SIZES {
                *cpu_slots.entry(s.to_string()).or_default() += c / (s * 1000);
            }
        }
        let by_free = by_free.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        (gpu_slots, cpu_slots, free_gpus, free_cpu, by_free)
    }

    /// Records one sample of the time series.
    pub(crate) fn sample(&mut self) {
        if self.samples.last().is_some_and(|s| s.time == format_duration(self.now)) {
            self.samples.pop();
        }
        let counts = self.queue.counts();
        let pending = self.pods.iter().filter(|p| p.is_live() && p.phase == Phase::Pending).count();
        let (gpu_slots, cpu_slots, ..) = self.slots();
        let allocation = self.allocation().into_iter().map(|a| (a.resource, a.percent)).collect();
        self.samples.push(Sample {
            at: seconds(self.now),
            time: format_duration(self.now),
            pending,
            unschedulable: counts.unschedulable + counts.backoff,
            gated: counts.gated,
            running: self.counters.running,
            succeeded: self.counters.succeeded,
            nodes_ready: self.ready_nodes().count(),
            allocation,
            gpu_slots,
            cpu_slots,
            hourly_cost: None,
            managed_nodes: None,
            gpu_fragmentation: self.gpu_fragmentation(),
        });
    }

    /// The FGD paper's fragmentation of the GPU nodes against the typical shapes of every pod
    /// the run has created so far; `None` without GPU nodes.
    pub(crate) fn gpu_fragmentation(&self) -> Option<crate::report::GpuFragmentation> {
        use kubesched_core::gpu::frag::{DEFAULT_POPULARITY_THRESHOLD, TargetWorkload, TaskShape, nodes_metrics};
        if !self.snapshot.nodes().any(|n| kubesched_core::gpu::device_count(n) > 0) {
            return None;
        }
        let shapes = self.pods.iter().filter_map(|p| TaskShape::of_pod(&p.model));
        let workload = TargetWorkload::typical(shapes, DEFAULT_POPULARITY_THRESHOLD);
        // The same nodes as the free-capacity view: Ready and schedulable.
        let m = nodes_metrics(self.ready_nodes().filter(|n| !n.node.unschedulable), &workload);
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        Some(crate::report::GpuFragmentation {
            unallocated_gpus: round(m.unallocated_gpus()),
            fragmented_gpus: round(m.fragmented_milli() / 1000.0),
            fragmentation_rate: round(m.fragmentation_rate()),
        })
    }

    fn owner_text(&self, o: OwnerId) -> String {
        let c = &self.ctrl;
        let (kind, meta) = match o {
            OwnerId::Rs(i) => {
                let r = &c.rss[i as usize];
                (
                    if matches!(r.obj, crate::controllers::RsObject::Rs(_)) {
                        "ReplicaSet"
                    } else {
                        "ReplicationController"
                    },
                    r.obj.meta(),
                )
            }
            OwnerId::Ss(i) => ("StatefulSet", &c.sss[i as usize].obj.metadata),
            OwnerId::Job(i) => ("Job", &c.jobs[i as usize].obj.metadata),
            OwnerId::Ds(i) => ("DaemonSet", &c.dss[i as usize].obj.metadata),
        };
        format!(
            "{kind} {}/{}",
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or_default()
        )
    }

    /// Every node's state and utilization now.
    pub(crate) fn node_states(&self) -> Vec<NodeState> {
        self.nodes
            .iter()
            .map(|n| {
                let Some(id) = n.id else {
                    return NodeState { node: n.name.to_string(), status: "Deleted".into(), ..Default::default() };
                };
                let info = self.snapshot.node(id);
                let a = &info.node.allocatable;
                let gpus = a.scalar(Sym::NVIDIA_GPU);
                NodeState {
                    node: n.name.to_string(),
                    status: match n.failed {
                        None => "Ready",
                        Some(kubesched_core::model::Readiness::Unreachable) => "Unreachable",
                        Some(_) => "NotReady",
                    }
                    .into(),
                    cordoned: info.node.unschedulable,
                    pods: info.pods.len(),
                    cpu_percent: pct(info.requested.cpu as f64, a.cpu as f64),
                    memory_percent: pct(info.requested.memory as f64, a.memory as f64),
                    gpus: (gpus > 0).then_some(gpus),
                    gpus_used: (gpus > 0).then(|| info.requested.scalar(Sym::NVIDIA_GPU)),
                }
            })
            .collect()
    }

    /// The final document.
    pub(crate) fn report(self) -> Report {
        let counts = self.queue.counts();
        let (gpu_slots, cpu_slots, free_gpus, free_cpu, gpu_nodes_by_free) = self.slots();
        let mut pending_by_gpus: BTreeMap<String, usize> = BTreeMap::new();
        let mut pending = 0;
        for p in self.pods.iter().filter(|p| p.is_live() && p.phase == Phase::Pending) {
            pending += 1;
            *pending_by_gpus.entry(p.model.requests().scalar(Sym::NVIDIA_GPU).to_string()).or_default() += 1;
        }
        let allocation = self.allocation();
        let gpu_samples: Vec<f64> =
            self.samples.iter().filter_map(|s| s.allocation.get("nvidia.com/gpu").copied()).collect();
        let mean_gpu = if gpu_samples.is_empty() {
            0.0
        } else {
            (gpu_samples.iter().sum::<f64>() / gpu_samples.len() as f64 * 10.0).round() / 10.0
        };
        let summary = Summary {
            pods_created: self.counters.created,
            pods_scheduled: self.counters.bound,
            scheduling_attempts: self.counters.attempts,
            unschedulable_attempts: self.counters.unschedulable_attempts,
            pods_running: self.counters.running,
            pods_pending: pending,
            pods_unschedulable: counts.unschedulable + counts.backoff,
            pods_gated: counts.gated,
            pods_succeeded: self.counters.succeeded,
            pods_evicted: self.counters.evicted,
            pods_preempted: self.counters.preempted,
            pods_deleted: self.counters.deleted,
            pending_by_gpus,
            nodes: self.nodes.iter().filter(|n| n.id.is_some()).count(),
            nodes_ready: self.ready_nodes().count(),
            nodes_cordoned: self
                .nodes
                .iter()
                .filter_map(|n| n.id)
                .filter(|&id| self.snapshot.node(id).node.unschedulable)
                .count(),
            latency: latency(&self.latencies),
            allocation,
            mean_gpu_allocation: mean_gpu,
        };
        let pods = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| PodState {
                pod: p.key.clone(),
                phase: if p.deleted {
                    "Deleted".into()
                } else {
                    match p.phase {
                        Phase::Pending => "Pending",
                        Phase::Binding => "Binding",
                        Phase::Running => "Running",
                        Phase::Succeeded => "Succeeded",
                        Phase::Failed => "Failed",
                    }
                    .into()
                },
                node: p.node.map(|n| n.to_string()),
                owner: p.owner.map(|o| self.owner_text(o)),
                created: format_duration(p.created_at),
                scheduled: p.bound_at.map(format_duration),
                ended: p.ended_at.map(format_duration),
                reason: p.end_reason.clone(),
                message: if p.is_live() && p.phase == Phase::Pending { p.last_message.clone() } else { None },
                attempts: self.queue.attempts(i as u32),
            })
            .collect();
        let nodes = self.node_states();
        Report {
            api_version: crate::scenario::API_VERSION.into(),
            kind: crate::report::REPORT_KIND.into(),
            scenario: self.scenario.name.clone(),
            configuration: self.config.label.clone(),
            seed: self.scenario.seed,
            end: format_duration(self.now),
            end_seconds: seconds(self.now),
            summary,
            fragmentation: Fragmentation {
                free_gpus,
                gpu_slots,
                free_cpu_cores: free_cpu as f64 / 1000.0,
                cpu_slots,
                gpu_nodes_by_free,
                gpu: self.gpu_fragmentation(),
            },
            events: self.log,
            pods,
            nodes,
            series: self.samples,
            checkpoints: self.checkpoints,
            cost: None,
            autoscaling: None,
            fargate: None,
            warnings: self.warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&v, 100), 100);
        assert_eq!(percentile(&[7], 90), 7);
        assert_eq!(percentile(&[], 50), 0);
        let l = latency(&[0, 1000, 3000]);
        assert_eq!((l.count, l.p50, l.max, l.mean), (3, 1.0, 3.0, 1.333));
    }
}
