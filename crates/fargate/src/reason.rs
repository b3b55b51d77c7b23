//! Why Fargate refuses a pod: a reason code and the message users see.

use serde::Serialize;
use std::fmt;

/// `FailedScheduling` with `Pod not supported on Fargate: …` (doc §3.1; the code is what a pod
/// condition carried in one report: `[POD_UNSUPPORTED_ON_FARGATE] Pod not supported on Fargate: …`).
pub const REASON_UNSUPPORTED: &str = "POD_UNSUPPORTED_ON_FARGATE";
/// Too big for the largest Fargate size (doc §2.1, verbatim).
pub const REASON_EXCEEDS_MAX_SIZE: &str = "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE";
/// The message of [`REASON_EXCEEDS_MAX_SIZE`] (doc §2.1, verbatim).
pub const MESSAGE_EXCEEDS_MAX_SIZE: &str = "Your pod's cpu/memory requirements exceed the max Fargate configuration";
/// The profile's subnets cannot satisfy the pod's nodeSelector / required node affinity
/// (`MatchNodeSelector failed: …`, doc §1.3). The message is verbatim; the code is the
/// message's own first word, as Fargate prints no separate code for it.
pub const REASON_MATCH_NODE_SELECTOR: &str = "MatchNodeSelector";
/// kubesched's code for an ephemeral-storage request above 175 GiB: Fargate's own text for
/// this case was not found (doc §2.6, §10).
pub const REASON_EPHEMERAL_STORAGE_EXCEEDS_MAX: &str = "POD_EPHEMERAL_STORAGE_EXCEEDS_MAX_FARGATE_SIZE";

/// One reason Fargate will not run a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason: String,
    pub message: String,
}

impl Rejection {
    pub fn new(reason: &str, message: impl Into<String>) -> Rejection {
        Rejection { reason: reason.to_string(), message: message.into() }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.reason, self.message)
    }
}
