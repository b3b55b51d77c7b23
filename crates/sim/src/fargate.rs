//! EKS Fargate on the timeline: `fargate-scheduler` as an [`Actor`] (references:
//! `shared/docs/fargate.md`, "doc §n").
//!
//! A pod the webhook handed to `fargate-scheduler` (through the scenario's admission chain) is
//! validated and sized by `kubesched-fargate` when it is created. Refused pods stay Pending with
//! Fargate's `FailedScheduling` message in the log (no fallback to EC2, doc §1.6). Accepted
//! pods get their own node after the provisioning delay (default uniform 30–50 s, doc §4.2; the
//! ~125 ms micro-VM boot of doc §7 is part of it): the node registers (tainted
//! `eks.amazonaws.com/compute-type=fargate:NoSchedule`, `pods: 1`) and the pod is bound through
//! the kubelet's admission. The node goes when the pod object is deleted — a Job's completed pod
//! keeps its node, and its bill, until then (doc §4.4). Billing: the `CapacityProvisioned` size,
//! per second from binding (image pull start) to deletion, one-minute minimum (doc §5).

use crate::actor::{Actor, ActorCx, ActorOutput, Charge, Notice};
use crate::report::{FargatePodState, FargateRefusal, FargateReport};
use crate::scenario::FargateSettings;
use crate::time::{Millis, format_duration};
use kubesched_core::rng::Rng;
use kubesched_fargate::cost::{billed_seconds, cost_for};
use kubesched_fargate::lifecycle::MICROVM_BOOT_MS;
use kubesched_fargate::validate::FARGATE_SCHEDULER_NAME;
use kubesched_fargate::{Binding, FargatePrices, FargateProfile, FargateScheduler, ScheduleOutcome};

#[derive(Clone, Debug)]
struct FargatePod {
    key: String,
    binding: Binding,
    hourly: kubesched_fargate::Money,
    created: Millis,
    bound: Option<Millis>,
    deleted: Option<Millis>,
}

/// The fargate-scheduler actor.
pub struct FargateActor {
    profiles: Vec<FargateProfile>,
    scheduler: FargateScheduler,
    settings: FargateSettings,
    rng: Rng,
    pods: Vec<FargatePod>,
    refused: Vec<FargateRefusal>,
}

fn pico_dollars(m: kubesched_fargate::Money) -> f64 {
    m.pico() as f64 / 1e12
}

impl FargateActor {
    pub fn new(profiles: Vec<FargateProfile>, settings: FargateSettings, seed: u64) -> FargateActor {
        FargateActor {
            profiles,
            scheduler: FargateScheduler::new(&settings.region, seed),
            settings,
            rng: Rng::new(seed ^ 0xfa76a7e),
            pods: Vec::new(),
            refused: Vec::new(),
        }
    }

    fn created(&mut self, cx: &mut ActorCx<'_, '_>, key: &str) {
        let Some(view) = cx.pod(key) else { return };
        let outcome = match self.scheduler.schedule(&view.object, &self.profiles) {
            Ok(o) => o,
            Err(e) => {
                cx.record_about("FailedScheduling", Some(key), None, e.to_string());
                return;
            }
        };
        match outcome {
            ScheduleOutcome::Bound(binding) => {
                let delay = self.settings.provisioning_delay.sample(&mut self.rng).max(MICROVM_BOOT_MS);
                let hourly = FargatePrices::for_region(&binding.region)
                    .map_or(kubesched_fargate::Money::ZERO, |p| binding.cost(&p).hourly);
                cx.record_about(
                    "FargateProvisioning",
                    Some(key),
                    Some(&binding.placement.node_name),
                    format!(
                        "profile {}: {} in {}, node ready in {} (micro-VM boot {} ms of it)",
                        binding.profile,
                        binding.capacity_provisioned,
                        binding.placement.zone,
                        format_duration(delay),
                        MICROVM_BOOT_MS
                    ),
                );
                let index = self.pods.len() as u64;
                self.pods.push(FargatePod {
                    key: key.to_string(),
                    binding: *binding,
                    hourly,
                    created: cx.now(),
                    bound: None,
                    deleted: None,
                });
                cx.set_timer(delay, index);
            }
            ScheduleOutcome::Unschedulable { profile, rejections } => {
                // Fargate's FailedScheduling event carries the first reason (doc §3.1).
                if let Some(first) = rejections.first() {
                    cx.record_about("FailedScheduling", Some(key), None, first.message.clone());
                    cx.set_pod_message(key, &first.message);
                    self.refused.push(FargateRefusal {
                        pod: key.to_string(),
                        profile,
                        reason: first.reason.clone(),
                        message: first.message.clone(),
                    });
                }
            }
            ScheduleOutcome::NoProfile => {
                cx.set_pod_message(key, "no active Fargate profile selects this pod: it stays Pending");
                cx.record_about(
                    "FargatePending",
                    Some(key),
                    None,
                    "no active Fargate profile selects this pod: it stays Pending",
                );
            }
        }
    }

    fn provisioned(&mut self, cx: &mut ActorCx<'_, '_>, i: usize) {
        let Some(p) = self.pods.get_mut(i) else { return };
        if p.deleted.is_some() {
            return;
        }
        let node = p.binding.placement.node_name.clone();
        cx.add_node(p.binding.placement.node.clone());
        match cx.bind(&p.key, &node) {
            Ok(()) => p.bound = Some(cx.now()),
            Err(e) => {
                cx.record_about("FailedScheduling", Some(&p.key.clone()), Some(&node), e);
                p.deleted = Some(cx.now());
                cx.remove_node(&node);
                self.scheduler.release(&self.pods[i].binding);
            }
        }
    }

    fn deleted(&mut self, cx: &mut ActorCx<'_, '_>, key: &str) {
        let Some(i) = self.pods.iter().position(|p| p.key == key && p.deleted.is_none()) else { return };
        self.pods[i].deleted = Some(cx.now());
        if self.pods[i].bound.is_some() {
            cx.remove_node(&self.pods[i].binding.placement.node_name.clone());
        }
        self.scheduler.release(&self.pods[i].binding);
    }
}

impl Actor for FargateActor {
    fn name(&self) -> &str {
        FARGATE_SCHEDULER_NAME
    }

    fn notice(&mut self, cx: &mut ActorCx<'_, '_>, notice: &Notice) {
        match notice {
            Notice::PodCreated { pod, scheduler_name, queued: false } if scheduler_name == FARGATE_SCHEDULER_NAME => {
                self.created(cx, pod);
            }
            Notice::PodDeleted { pod } => self.deleted(cx, pod),
            _ => {}
        }
    }

    fn timer(&mut self, cx: &mut ActorCx<'_, '_>, token: u64) {
        self.provisioned(cx, token as usize);
    }

    fn finish(&mut self, cx: &mut ActorCx<'_, '_>, out: &mut ActorOutput) {
        let end = cx.now();
        let mut total = kubesched_fargate::Money::ZERO;
        let mut pods = Vec::new();
        for p in &self.pods {
            let (billed, cost) = match p.bound {
                Some(b) => {
                    let ran = p.deleted.unwrap_or(end).saturating_sub(b);
                    out.charges.push(Charge {
                        start: b,
                        end: p.deleted,
                        hourly: pico_dollars(p.hourly),
                        managed_node: false,
                    });
                    (billed_seconds(ran), cost_for(p.hourly, ran))
                }
                None => (0, kubesched_fargate::Money::ZERO),
            };
            total = total.saturating_add(cost);
            pods.push(FargatePodState {
                pod: p.key.clone(),
                profile: p.binding.profile.clone(),
                capacity_provisioned: p.binding.capacity_provisioned.clone(),
                node: p.binding.placement.node_name.clone(),
                zone: p.binding.placement.zone.clone(),
                created: format_duration(p.created),
                bound: p.bound.map(format_duration),
                deleted: p.deleted.map(format_duration),
                billed_seconds: billed,
                hourly_cost: pico_dollars(p.hourly),
                cost: pico_dollars(cost),
            });
        }
        out.fargate = Some(FargateReport {
            region: self.settings.region.clone(),
            pods,
            refused: self.refused.clone(),
            total_cost: crate::engine::round6(pico_dollars(total)),
        });
    }
}
