//! SchedulingGates (PreEnqueue): a pod with `spec.schedulingGates` waits outside the queue.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, Points, Status};
use crate::model::Pod;
use std::sync::Arc;

pub const NAME: &str = "SchedulingGates";

pub struct SchedulingGates;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(SchedulingGates))
}

/// `waiting for scheduling gates: [a b]` — Go's `%v` of a string slice.
pub fn gated_message(pod: &Pod) -> String {
    let names: Vec<&str> = pod.scheduling_gates.iter().map(|g| g.as_str()).collect();
    format!("waiting for scheduling gates: [{}]", names.join(" "))
}

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_ENQUEUE
    }

    fn pre_enqueue(&self, pod: &Pod) -> Status {
        if pod.scheduling_gates.is_empty() { Status::success() } else { Status::unresolvable(gated_message(pod)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::Sym;

    #[test]
    fn gated_pods_are_held_with_the_gate_names() {
        let mut pod = Pod::new("default", "p");
        assert!(SchedulingGates.pre_enqueue(&pod).is_success());
        pod.scheduling_gates = vec![Sym::new("example.com/foo"), Sym::new("example.com/bar")];
        let s = SchedulingGates.pre_enqueue(&pod);
        assert_eq!(s.code, crate::framework::Code::UnschedulableAndUnresolvable);
        assert_eq!(s.message(), "waiting for scheduling gates: [example.com/foo example.com/bar]");
    }
}
