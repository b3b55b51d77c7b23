//! PrioritySort (QueueSort): higher `spec.priority` first, then whoever entered the queue first.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, Points};
use crate::model::Pod;
use std::sync::Arc;

pub const NAME: &str = "PrioritySort";

pub struct PrioritySort;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(PrioritySort))
}

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::QUEUE_SORT
    }

    fn less(&self, a: &Pod, a_seq: u64, b: &Pod, b_seq: u64) -> bool {
        a.priority > b.priority || (a.priority == b.priority && a_seq < b_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_then_queue_order() {
        let mut hi = Pod::new("default", "hi");
        hi.priority = 10;
        let lo = Pod::new("default", "lo");
        assert!(PrioritySort.less(&hi, 5, &lo, 1));
        assert!(!PrioritySort.less(&lo, 1, &hi, 5));
        assert!(PrioritySort.less(&lo, 1, &lo, 2));
    }
}
