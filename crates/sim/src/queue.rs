//! kube-scheduler's scheduling queue (`PriorityQueue`, kube-scheduler.md §1.1) on simulated time.
//!
//! Three parts, as in kube-scheduler:
//! - **activeQ**: a heap ordered by the profiles' QueueSort (`Scheduler::queue_less`; PrioritySort
//!   by default: higher priority first, then whoever entered the queue first);
//! - **backoffQ**: pods waiting out their backoff, `podInitialBackoffSeconds` doubled per attempt
//!   up to `podMaxBackoffSeconds` (1s, 2s, 4s, 8s, 10s, 10s… by default). `flushBackoffQCompleted`
//!   runs every second, so a pod leaves backoffQ at the first whole second at or after its expiry;
//! - **unschedulablePods**: pods the last cycle rejected. They move on cluster events that could
//!   make them schedulable (the QueueingHints below), or after 5 minutes at the next run of the
//!   30-second `flushUnschedulablePodsLeftover` loop. Gated pods (PreEnqueue refused them) wait
//!   here too, flagged gated, until their gates are removed.
//!
//! A pod whose cycle failed goes to unschedulablePods, unless a move request arrived during its
//! cycle (kube's `moveRequestCycle`: preemption deleting victims, for instance) or the failure
//! was an error: then it goes to backoffQ.
//!
//! `SchedulerPopFromBackoffQ` (beta and on by default since v1.33, §1.1): when activeQ is empty the
//! pod closest to the end of its backoff is popped from backoffQ. A pod whose cycle ended in an
//! error is not popped early again at the same instant (simulated cycles take no time; a real
//! scheduler would spin on it for milliseconds).
//!
//! ## QueueingHints, simplified
//! kube asks each plugin that rejected a pod whether an event may help it. Here every rejected pod
//! remembers the plugins that rejected it, and each cluster event names the plugins it may help:
//!
//! | event | plugins |
//! |---|---|
//! | node added | all |
//! | node uncordoned | NodeUnschedulable, TaintToleration |
//! | node taint removed, node Ready again | TaintToleration |
//! | node labels changed | NodeAffinity, PodTopologySpread, InterPodAffinity |
//! | node allocatable grew | NodeResourcesFit |
//! | node deleted | PodTopologySpread, InterPodAffinity |
//! | bound pod deleted or finished | NodeResourcesFit, NodePorts, PodTopologySpread, InterPodAffinity |
//! | pod bound | PodTopologySpread, InterPodAffinity |
//!
//! A pod rejected by a plugin not in this table, or with an error, moves on every event.

use crate::time::{Millis, SECOND};
use kubesched_core::model::Pod;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Index of a pod in the simulation (creation order).
pub type PodIdx = u32;

/// `flushBackoffQCompleted` period.
pub const BACKOFF_FLUSH_INTERVAL: Millis = SECOND;
/// `flushUnschedulablePodsLeftover` period.
pub const LEFTOVER_FLUSH_INTERVAL: Millis = 30 * SECOND;
/// `DefaultPodMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: Millis = 5 * 60 * SECOND;

/// Plugins whose rejections the cluster events below can lift, as a bit set.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Plugins(pub u32);

impl Plugins {
    pub const NONE: Plugins = Plugins(0);
    pub const NODE_RESOURCES_FIT: Plugins = Plugins(1);
    pub const NODE_AFFINITY: Plugins = Plugins(1 << 1);
    pub const TAINT_TOLERATION: Plugins = Plugins(1 << 2);
    pub const NODE_UNSCHEDULABLE: Plugins = Plugins(1 << 3);
    pub const NODE_PORTS: Plugins = Plugins(1 << 4);
    pub const POD_TOPOLOGY_SPREAD: Plugins = Plugins(1 << 5);
    pub const INTER_POD_AFFINITY: Plugins = Plugins(1 << 6);
    /// Any other plugin (or an error): every event may help.
    pub const OTHER: Plugins = Plugins(1 << 31);
    pub const ALL: Plugins = Plugins(u32::MAX);

    /// The bit of a plugin name.
    pub fn of(name: &str) -> Plugins {
        match name {
            "NodeResourcesFit" => Plugins::NODE_RESOURCES_FIT,
            "NodeAffinity" => Plugins::NODE_AFFINITY,
            "TaintToleration" => Plugins::TAINT_TOLERATION,
            "NodeUnschedulable" => Plugins::NODE_UNSCHEDULABLE,
            "NodePorts" => Plugins::NODE_PORTS,
            "PodTopologySpread" => Plugins::POD_TOPOLOGY_SPREAD,
            "InterPodAffinity" => Plugins::INTER_POD_AFFINITY,
            _ => Plugins::OTHER,
        }
    }

    pub fn union(self, o: Plugins) -> Plugins {
        Plugins(self.0 | o.0)
    }

    pub fn intersects(self, o: Plugins) -> bool {
        self.0 & o.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A cluster event, for the queue's move decisions (see the module table).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClusterEvent {
    NodeAdd,
    NodeUpdate(Plugins),
    NodeDelete,
    AssignedPodDelete,
    AssignedPodAdd,
    /// The leftover flush (`UnschedulableTimeout`) and explicit moves: everything.
    Any,
}

impl ClusterEvent {
    /// The plugins whose rejection this event may lift.
    pub fn helps(self) -> Plugins {
        match self {
            ClusterEvent::NodeAdd | ClusterEvent::Any => Plugins::ALL,
            ClusterEvent::NodeUpdate(p) => p,
            ClusterEvent::NodeDelete => Plugins::POD_TOPOLOGY_SPREAD.union(Plugins::INTER_POD_AFFINITY),
            ClusterEvent::AssignedPodDelete => Plugins::NODE_RESOURCES_FIT
                .union(Plugins::NODE_PORTS)
                .union(Plugins::POD_TOPOLOGY_SPREAD)
                .union(Plugins::INTER_POD_AFFINITY),
            ClusterEvent::AssignedPodAdd => Plugins::POD_TOPOLOGY_SPREAD.union(Plugins::INTER_POD_AFFINITY),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ClusterEvent::NodeAdd => "NodeAdd",
            ClusterEvent::NodeUpdate(_) => "NodeUpdate",
            ClusterEvent::NodeDelete => "NodeDelete",
            ClusterEvent::AssignedPodDelete => "AssignedPodDelete",
            ClusterEvent::AssignedPodAdd => "AssignedPodAdd",
            ClusterEvent::Any => "UnschedulableTimeout",
        }
    }
}

/// Where a pod is in the queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Place {
    /// Not queued (bound, deleted, or being scheduled).
    #[default]
    Out,
    Active,
    Backoff,
    Unschedulable,
    Gated,
    /// Popped, its cycle running.
    InFlight,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    place: Place,
    /// Invalidates stale heap entries.
    epoch: u64,
    attempts: u32,
    /// When the last cycle of this pod ran (kube's `podInfo.Timestamp` after a failure).
    last_attempt: Millis,
    backoff_key: Option<(Millis, u64)>,
    unschedulable_since: Millis,
    rejectors: Plugins,
    /// The scheduling cycle that popped the pod.
    cycle: u64,
    /// The pod's last cycle ended in an error at this instant (no early pop from backoffQ).
    errored_at: Option<Millis>,
}

#[derive(Clone)]
struct Active {
    pod: Arc<Pod>,
    seq: u64,
    idx: PodIdx,
    epoch: u64,
}

/// Backoff settings, from the configuration's `podInitialBackoffSeconds` / `podMaxBackoffSeconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    pub initial_backoff: Millis,
    pub max_backoff: Millis,
    pub pop_from_backoff: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { initial_backoff: SECOND, max_backoff: 10 * SECOND, pop_from_backoff: true }
    }
}

/// How many pods are where.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub active: usize,
    pub backoff: usize,
    pub unschedulable: usize,
    pub gated: usize,
}

/// The queue. `less` arguments are the profiles' QueueSort (`Scheduler::queue_less`).
#[derive(Default)]
pub struct SchedulingQueue {
    pub config: QueueConfig,
    heap: Vec<Active>,
    backoff: BTreeMap<(Millis, u64), (PodIdx, u64)>,
    unschedulable: BTreeSet<PodIdx>,
    gated: BTreeSet<PodIdx>,
    entries: Vec<Entry>,
    next_seq: u64,
    cycle: u64,
    move_request_cycle: u64,
    pods: BTreeMap<PodIdx, Arc<Pod>>,
}

impl SchedulingQueue {
    pub fn new(config: QueueConfig) -> SchedulingQueue {
        SchedulingQueue { config, ..Default::default() }
    }

    fn entry(&mut self, idx: PodIdx) -> &mut Entry {
        let i = idx as usize;
        if self.entries.len() <= i {
            self.entries.resize(i + 1, Entry::default());
        }
        &mut self.entries[i]
    }

    pub fn place(&self, idx: PodIdx) -> Place {
        self.entries.get(idx as usize).map(|e| e.place).unwrap_or_default()
    }

    pub fn attempts(&self, idx: PodIdx) -> u32 {
        self.entries.get(idx as usize).map(|e| e.attempts).unwrap_or(0)
    }

    pub fn counts(&self) -> QueueCounts {
        QueueCounts {
            active: self.heap.iter().filter(|a| self.is_live_active(a)).count(),
            backoff: self.backoff.len(),
            unschedulable: self.unschedulable.len(),
            gated: self.gated.len(),
        }
    }

    fn is_live_active(&self, a: &Active) -> bool {
        self.entries.get(a.idx as usize).is_some_and(|e| e.epoch == a.epoch && e.place == Place::Active)
    }

    /// True when activeQ holds a pod to schedule (stale entries aside).
    pub fn has_active(&self) -> bool {
        self.heap.iter().any(|a| self.is_live_active(a))
    }

    /// `calculateBackoffDuration`: initial doubled per attempt after the first, capped.
    pub fn backoff_duration(&self, attempts: u32) -> Millis {
        let mut d = self.config.initial_backoff;
        for _ in 1..attempts {
            if d >= self.config.max_backoff {
                break;
            }
            d = d.saturating_mul(2);
        }
        d.min(self.config.max_backoff)
    }

    /// When the pod's backoff ends (last attempt + backoff).
    pub fn backoff_expiry(&self, idx: PodIdx) -> Millis {
        let Some(e) = self.entries.get(idx as usize) else { return 0 };
        if e.attempts == 0 {
            return 0;
        }
        e.last_attempt + self.backoff_duration(e.attempts)
    }

    /// A new pod (or one whose gates are gone): activeQ, or the gated set.
    pub fn add(&mut self, idx: PodIdx, pod: Arc<Pod>, gated: bool, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) {
        self.detach(idx);
        if gated {
            self.gated.insert(idx);
            self.entry(idx).place = Place::Gated;
            self.pods.insert(idx, pod);
        } else {
            self.push_active(idx, pod, less);
        }
    }

    /// Removes the pod from wherever it is (deleted or bound by someone else).
    pub fn remove(&mut self, idx: PodIdx) {
        self.detach(idx);
        self.entry(idx).place = Place::Out;
        self.pods.remove(&idx);
    }

    fn detach(&mut self, idx: PodIdx) {
        let e = self.entry(idx);
        e.epoch += 1;
        let place = e.place;
        let key = e.backoff_key.take();
        match place {
            Place::Backoff => {
                if let Some(k) = key {
                    self.backoff.remove(&k);
                }
            }
            Place::Unschedulable => {
                self.unschedulable.remove(&idx);
            }
            Place::Gated => {
                self.gated.remove(&idx);
            }
            _ => {}
        }
    }

    fn push_active(&mut self, idx: PodIdx, pod: Arc<Pod>, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) {
        self.detach(idx);
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = self.entry(idx);
        e.place = Place::Active;
        let epoch = e.epoch;
        self.pods.insert(idx, pod.clone());
        self.heap.push(Active { pod, seq, idx, epoch });
        let mut i = self.heap.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if heap_less(&self.heap[i], &self.heap[parent], less) {
                self.heap.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn pop_heap(&mut self, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> Option<Active> {
        if self.heap.is_empty() {
            return None;
        }
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
        let top = self.heap.pop();
        let n = self.heap.len();
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut best = i;
            if l < n && heap_less(&self.heap[l], &self.heap[best], less) {
                best = l;
            }
            if r < n && heap_less(&self.heap[r], &self.heap[best], less) {
                best = r;
            }
            if best == i {
                break;
            }
            self.heap.swap(i, best);
            i = best;
        }
        top
    }

    fn push_backoff(&mut self, idx: PodIdx, expiry: Millis) {
        self.detach(idx);
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = self.entry(idx);
        e.place = Place::Backoff;
        e.backoff_key = Some((expiry, seq));
        let epoch = e.epoch;
        self.backoff.insert((expiry, seq), (idx, epoch));
    }

    /// The next pod to schedule at `now` (`Pop`): activeQ first; with `pop_from_backoff`, the
    /// backoffQ pod closest to its expiry when activeQ is empty. The pod is in flight until one
    /// of the `done_*` calls.
    pub fn pop(&mut self, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> Option<PodIdx> {
        let idx = loop {
            match self.pop_heap(less) {
                Some(a) if self.is_live_active(&a) => break Some(a.idx),
                Some(_) => continue,
                None => break None,
            }
        };
        let idx = match idx {
            Some(i) => i,
            None if self.config.pop_from_backoff => {
                let key = self.backoff.iter().find_map(|(k, &(i, _))| {
                    let e = &self.entries[i as usize];
                    (e.errored_at != Some(now)).then_some(*k)
                })?;
                let (i, _) = self.backoff.remove(&key)?;
                self.entry(i).backoff_key = None;
                i
            }
            None => return None,
        };
        self.cycle += 1;
        let cycle = self.cycle;
        let e = self.entry(idx);
        e.epoch += 1;
        e.place = Place::InFlight;
        e.attempts += 1;
        e.last_attempt = now;
        e.cycle = cycle;
        Some(idx)
    }

    /// The pod's cycle ended with the pod bound (or assumed).
    pub fn done_scheduled(&mut self, idx: PodIdx) {
        self.remove(idx);
    }

    /// `AddUnschedulableIfNotPresent` after a rejection by `rejectors`: backoffQ when a move
    /// request arrived during the pod's cycle, unschedulablePods otherwise.
    pub fn done_unschedulable(&mut self, idx: PodIdx, pod: Arc<Pod>, now: Millis, rejectors: Plugins) {
        self.pods.insert(idx, pod);
        let (cycle, place) = {
            let e = self.entry(idx);
            e.rejectors = if rejectors.is_empty() { Plugins::OTHER } else { rejectors };
            e.errored_at = None;
            (e.cycle, e.place)
        };
        if place != Place::InFlight {
            return;
        }
        if self.move_request_cycle >= cycle {
            let expiry = self.backoff_expiry(idx);
            self.push_backoff(idx, expiry);
        } else {
            self.detach(idx);
            self.unschedulable.insert(idx);
            let e = self.entry(idx);
            e.place = Place::Unschedulable;
            e.unschedulable_since = now;
        }
    }

    /// The pod's cycle failed with an error: always backoffQ.
    pub fn done_error(&mut self, idx: PodIdx, pod: Arc<Pod>, now: Millis) {
        self.pods.insert(idx, pod);
        if self.entry(idx).place != Place::InFlight {
            return;
        }
        let e = self.entry(idx);
        e.rejectors = Plugins::OTHER;
        e.errored_at = Some(now);
        let expiry = self.backoff_expiry(idx);
        self.push_backoff(idx, expiry);
    }

    /// Replaces the queued copy of a pod (nomination cleared, spec updated). An unschedulable
    /// pod that was updated is moved (kube moves updated unschedulable pods).
    pub fn update(&mut self, idx: PodIdx, pod: Arc<Pod>, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) {
        match self.place(idx) {
            Place::Active => {
                // Re-insert so the heap sees the new priority; keeps the queue timestamp order.
                self.push_active(idx, pod, less);
            }
            Place::Unschedulable => {
                self.pods.insert(idx, pod.clone());
                self.move_one(idx, pod, now, less);
            }
            Place::Out => {}
            _ => {
                self.pods.insert(idx, pod);
            }
        }
    }

    fn move_one(&mut self, idx: PodIdx, pod: Arc<Pod>, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) {
        let expiry = self.backoff_expiry(idx);
        if now < expiry {
            self.push_backoff(idx, expiry);
        } else {
            self.push_active(idx, pod, less);
        }
    }

    /// `MoveAllToActiveOrBackoffQueue`: unschedulable pods whose rejectors the event may help go
    /// to activeQ, or to backoffQ while backing off. Returns how many moved.
    pub fn move_all(&mut self, event: ClusterEvent, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> usize {
        self.move_request_cycle = self.cycle;
        let helps = event.helps();
        let moving: Vec<PodIdx> = self
            .unschedulable
            .iter()
            .copied()
            .filter(|&i| self.entries.get(i as usize).is_some_and(|e| e.rejectors.intersects(helps)))
            .collect();
        for &idx in &moving {
            if let Some(pod) = self.pods.get(&idx).cloned() {
                self.move_one(idx, pod, now, less);
            }
        }
        moving.len()
    }

    /// `flushBackoffQCompleted`: every backoffQ pod whose backoff has ended goes to activeQ.
    pub fn flush_backoff(&mut self, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> usize {
        let due: Vec<PodIdx> = self.backoff.range(..(now + 1, 0)).map(|(_, &(i, _))| i).collect();
        for &idx in &due {
            if let Some(pod) = self.pods.get(&idx).cloned() {
                self.push_active(idx, pod, less);
            }
        }
        due.len()
    }

    /// `flushUnschedulablePodsLeftover`: pods unschedulable for more than 5 minutes move.
    pub fn flush_leftover(&mut self, now: Millis, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> usize {
        let due: Vec<PodIdx> = self
            .unschedulable
            .iter()
            .copied()
            .filter(|&i| now.saturating_sub(self.entries[i as usize].unschedulable_since) > MAX_IN_UNSCHEDULABLE)
            .collect();
        for &idx in &due {
            if let Some(pod) = self.pods.get(&idx).cloned() {
                self.move_one(idx, pod, now, less);
            }
        }
        due.len()
    }

    /// True when backoffQ holds a pod that will be retried for a reason other than an error
    /// (an event moved it there): work still to do.
    pub fn has_backoff_retry(&self) -> bool {
        self.backoff.values().any(|&(i, _)| self.entries[i as usize].errored_at.is_none())
    }

    /// When the backoff flush loop next has work: the first whole second at or after the
    /// earliest expiry.
    pub fn next_backoff_flush(&self) -> Option<Millis> {
        self.backoff.keys().next().map(|&(expiry, _)| expiry.div_ceil(BACKOFF_FLUSH_INTERVAL) * BACKOFF_FLUSH_INTERVAL)
    }

    /// When the leftover flush loop next has work: the first 30-second tick strictly more than
    /// 5 minutes after the earliest unschedulable pod's last attempt.
    pub fn next_leftover_flush(&self) -> Option<Millis> {
        self.unschedulable.iter().map(|&i| self.entries[i as usize].unschedulable_since).min().map(|since| {
            (since + MAX_IN_UNSCHEDULABLE) / LEFTOVER_FLUSH_INTERVAL * LEFTOVER_FLUSH_INTERVAL + LEFTOVER_FLUSH_INTERVAL
        })
    }

    /// Gated pods, in creation order.
    pub fn gated(&self) -> impl Iterator<Item = PodIdx> + '_ {
        self.gated.iter().copied()
    }

    /// Unschedulable pods (not gated), in creation order.
    pub fn unschedulable(&self) -> impl Iterator<Item = PodIdx> + '_ {
        self.unschedulable.iter().copied()
    }
}

fn heap_less(a: &Active, b: &Active, less: &dyn Fn(&Pod, u64, &Pod, u64) -> bool) -> bool {
    if less(&a.pod, a.seq, &b.pod, b.seq) {
        return true;
    }
    if less(&b.pod, b.seq, &a.pod, a.seq) {
        return false;
    }
    a.seq < b.seq
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priority_sort(a: &Pod, a_seq: u64, b: &Pod, b_seq: u64) -> bool {
        a.priority > b.priority || (a.priority == b.priority && a_seq < b_seq)
    }

    fn pod(name: &str, priority: i32) -> Arc<Pod> {
        let mut p = Pod::new("default", name);
        p.priority = priority;
        Arc::new(p)
    }

    fn queue(pop_from_backoff: bool) -> SchedulingQueue {
        SchedulingQueue::new(QueueConfig { pop_from_backoff, ..QueueConfig::default() })
    }

    #[test]
    fn active_queue_pops_by_priority_then_arrival() {
        let mut q = queue(false);
        q.add(0, pod("a", 0), false, &priority_sort);
        q.add(1, pod("b", 10), false, &priority_sort);
        q.add(2, pod("c", 0), false, &priority_sort);
        q.add(3, pod("d", 10), false, &priority_sort);
        let order: Vec<PodIdx> = std::iter::from_fn(|| q.pop(0, &priority_sort)).collect();
        assert_eq!(order, [1, 3, 0, 2]);
    }

    #[test]
    fn backoff_doubles_from_one_second_to_ten() {
        let q = queue(false);
        let seq: Vec<Millis> = (1..=7).map(|a| q.backoff_duration(a)).collect();
        assert_eq!(seq, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
        let custom =
            SchedulingQueue::new(QueueConfig { initial_backoff: 2000, max_backoff: 5000, pop_from_backoff: false });
        assert_eq!((1..=4).map(|a| custom.backoff_duration(a)).collect::<Vec<_>>(), [2000, 4000, 5000, 5000]);
    }

    #[test]
    fn rejected_pods_wait_for_a_helpful_event_then_their_backoff() {
        let mut q = queue(false);
        q.add(0, pod("p", 0), false, &priority_sort);
        assert_eq!(q.pop(10_000, &priority_sort), Some(0));
        q.done_unschedulable(0, pod("p", 0), 10_000, Plugins::NODE_RESOURCES_FIT);
        assert_eq!(q.place(0), Place::Unschedulable);
        // A taint removal does not help a pod rejected for resources.
        assert_eq!(q.move_all(ClusterEvent::NodeUpdate(Plugins::TAINT_TOLERATION), 10_200, &priority_sort), 0);
        assert_eq!(q.place(0), Place::Unschedulable);
        // A deleted pod may: the pod is still backing off (attempt 1 → 1s), so backoffQ.
        assert_eq!(q.move_all(ClusterEvent::AssignedPodDelete, 10_500, &priority_sort), 1);
        assert_eq!(q.place(0), Place::Backoff);
        assert_eq!(q.next_backoff_flush(), Some(11_000));
        assert_eq!(q.flush_backoff(10_999, &priority_sort), 0);
        assert_eq!(q.flush_backoff(11_000, &priority_sort), 1);
        assert_eq!(q.place(0), Place::Active);
        // Second failure: 2s of backoff from the attempt at 11s.
        assert_eq!(q.pop(11_000, &priority_sort), Some(0));
        q.done_unschedulable(0, pod("p", 0), 11_000, Plugins::NODE_RESOURCES_FIT);
        assert_eq!(q.backoff_expiry(0), 13_000);
        // Past the backoff, a helpful event moves it straight to activeQ.
        assert_eq!(q.move_all(ClusterEvent::NodeAdd, 20_000, &priority_sort), 1);
        assert_eq!(q.place(0), Place::Active);
    }

    #[test]
    fn leftover_flush_moves_after_five_minutes_on_the_thirty_second_tick() {
        let mut q = queue(false);
        q.add(0, pod("p", 0), false, &priority_sort);
        assert_eq!(q.pop(12_000, &priority_sort), Some(0));
        q.done_unschedulable(0, pod("p", 0), 12_000, Plugins::NODE_AFFINITY);
        // 12s + 300s = 312s: the first 30s tick strictly after is 330s.
        assert_eq!(q.next_leftover_flush(), Some(330_000));
        assert_eq!(q.flush_leftover(312_000, &priority_sort), 0);
        assert_eq!(q.flush_leftover(330_000, &priority_sort), 1);
        assert_eq!(q.place(0), Place::Active);
        // Exactly on a tick: 0 + 300s is not *more* than 5 minutes, so 330s.
        let mut q = queue(false);
        q.add(1, pod("p", 0), false, &priority_sort);
        q.pop(0, &priority_sort);
        q.done_unschedulable(1, pod("p", 0), 0, Plugins::NODE_AFFINITY);
        assert_eq!(q.next_leftover_flush(), Some(330_000));
    }

    #[test]
    fn a_move_request_during_the_cycle_sends_the_pod_to_backoff() {
        let mut q = queue(false);
        q.add(0, pod("preemptor", 100), false, &priority_sort);
        assert_eq!(q.pop(5000, &priority_sort), Some(0));
        // Preemption deleted victims during the cycle.
        q.move_all(ClusterEvent::AssignedPodDelete, 5000, &priority_sort);
        q.done_unschedulable(0, pod("preemptor", 100), 5000, Plugins::NODE_RESOURCES_FIT);
        assert_eq!(q.place(0), Place::Backoff);
        assert_eq!(q.next_backoff_flush(), Some(6000));
    }

    #[test]
    fn pop_from_backoff_when_active_is_empty_but_not_errors_at_the_same_instant() {
        let mut q = queue(true);
        q.add(0, pod("p", 0), false, &priority_sort);
        q.add(1, pod("e", 0), false, &priority_sort);
        assert_eq!(q.pop(1000, &priority_sort), Some(0));
        q.move_all(ClusterEvent::NodeAdd, 1000, &priority_sort);
        q.done_unschedulable(0, pod("p", 0), 1000, Plugins::NODE_RESOURCES_FIT);
        assert_eq!(q.place(0), Place::Backoff);
        assert_eq!(q.pop(1000, &priority_sort), Some(1));
        q.done_error(1, pod("e", 0), 1000);
        // activeQ is empty: the backoffQ pod that did not error comes out at once.
        assert_eq!(q.pop(1000, &priority_sort), Some(0));
        q.done_scheduled(0);
        assert_eq!(q.pop(1000, &priority_sort), None, "the errored pod waits for its backoff");
        assert_eq!(q.pop(1500, &priority_sort), Some(1));
    }

    #[test]
    fn gated_pods_wait_until_added_again_and_removed_pods_are_never_popped() {
        let mut q = queue(false);
        q.add(0, pod("gated", 0), true, &priority_sort);
        q.add(1, pod("gone", 0), false, &priority_sort);
        q.remove(1);
        assert_eq!(q.counts(), QueueCounts { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
        assert_eq!(q.pop(0, &priority_sort), None);
        assert_eq!(q.move_all(ClusterEvent::Any, 0, &priority_sort), 0, "events do not move gated pods");
        q.add(0, pod("gated", 0), false, &priority_sort);
        assert_eq!(q.pop(0, &priority_sort), Some(0));
        assert_eq!(q.attempts(0), 1);
    }
}
