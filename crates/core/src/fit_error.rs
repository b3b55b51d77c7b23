//! kube-scheduler's `FitError` message: `0/5 nodes are available: 2 node(s) had untolerated
//! taint {dedicated: gpu}, 3 Insufficient cpu.`

use crate::framework::Status;
use crate::snapshot::NodeId;
use std::collections::HashMap;
use std::fmt;

/// Why a pod fits nowhere.
#[derive(Clone, Debug, PartialEq)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// Set when PreFilter rejected the pod: every node shares this message.
    pub pre_filter_msg: Option<String>,
    /// The status of every examined node that failed.
    pub statuses: Vec<(NodeId, Status)>,
    /// Nodes a PreFilter result excluded: how many, and the status they count with.
    pub absent: Option<(usize, Status)>,
    /// PostFilter (preemption) outcome, appended after the histogram.
    pub post_filter_msg: Option<String>,
}

impl FitError {
    /// The `"<count> <reason>"` items, sorted as strings (so `"10 x"` sorts before `"2 y"`).
    pub fn histogram(&self) -> Vec<String> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, status) in &self.statuses {
            for reason in &status.reasons {
                *counts.entry(reason).or_default() += 1;
            }
        }
        if let Some((n, status)) = &self.absent {
            for reason in &status.reasons {
                *counts.entry(reason).or_default() += n;
            }
        }
        let mut items: Vec<String> = counts.into_iter().map(|(r, c)| format!("{c} {r}")).collect();
        items.sort();
        items
    }

    /// The status kube-scheduler records for node `id` (absent nodes get the absent status).
    pub fn status_of(&self, id: NodeId) -> Option<&Status> {
        self.statuses.iter().find(|(n, _)| *n == id).map(|(_, s)| s)
    }
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        match &self.pre_filter_msg {
            Some(msg) => write!(f, " {msg}.")?,
            None => {
                let items = self.histogram();
                if !items.is_empty() {
                    write!(f, " {}.", items.join(", "))?;
                }
            }
        }
        if let Some(msg) = &self.post_filter_msg
            && !msg.is_empty()
        {
            write!(f, " {msg}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_sorted_as_strings_and_counts_every_reason() {
        let mut multi = Status::unschedulable("Insufficient cpu");
        multi.reasons.push("Insufficient memory".into());
        let mut statuses: Vec<(NodeId, Status)> =
            (0..10).map(|i| (NodeId(i), Status::unschedulable("Insufficient cpu"))).collect();
        statuses.push((NodeId(10), multi));
        statuses.push((NodeId(11), Status::unresolvable("node(s) had untolerated taint {dedicated: gpu}")));
        statuses.push((NodeId(12), Status::unresolvable("node(s) had untolerated taint {dedicated: gpu}")));
        let e = FitError { num_all_nodes: 13, pre_filter_msg: None, statuses, absent: None, post_filter_msg: None };
        assert_eq!(
            e.to_string(),
            "0/13 nodes are available: 1 Insufficient memory, 11 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}."
        );
    }

    #[test]
    fn prefilter_message_replaces_the_histogram() {
        let e = FitError {
            num_all_nodes: 3,
            pre_filter_msg: Some("pod affinity terms conflict".into()),
            statuses: vec![],
            absent: None,
            post_filter_msg: None,
        };
        assert_eq!(e.to_string(), "0/3 nodes are available: pod affinity terms conflict.");
    }

    #[test]
    fn absent_nodes_are_counted_and_postfilter_appended() {
        let e = FitError {
            num_all_nodes: 5,
            pre_filter_msg: None,
            statuses: vec![(NodeId(0), Status::unschedulable("Too many pods"))],
            absent: Some((4, Status::unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]"))),
            post_filter_msg: Some("preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.".into()),
        };
        assert_eq!(
            e.to_string(),
            "0/5 nodes are available: 1 Too many pods, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling."
        );
    }
}
