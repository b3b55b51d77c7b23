//! Plugin results (`framework.Status`).

use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// A reason text: usually a static string, sometimes formatted (taint keys, resource names).
pub type Reason = Cow<'static, str>;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Code {
    Success,
    Error,
    /// Preemption may help.
    Unschedulable,
    /// Preemption cannot help.
    UnschedulableAndUnresolvable,
    Wait,
    Skip,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::Error => "Error",
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Wait => "Wait",
            Code::Skip => "Skip",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Status {
    pub code: Code,
    pub reasons: SmallVec<[Reason; 1]>,
    /// The plugin that produced a non-success status.
    pub plugin: &'static str,
}

impl Status {
    #[inline]
    pub fn success() -> Status {
        Status { code: Code::Success, reasons: SmallVec::new(), plugin: "" }
    }

    pub fn new(code: Code, reason: impl Into<Reason>) -> Status {
        let mut reasons = SmallVec::new();
        reasons.push(reason.into());
        Status { code, reasons, plugin: "" }
    }

    pub fn unschedulable(reason: impl Into<Reason>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }

    pub fn unresolvable(reason: impl Into<Reason>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }

    pub fn error(message: impl Into<Reason>) -> Status {
        Status::new(Code::Error, message)
    }

    pub fn skip() -> Status {
        Status { code: Code::Skip, reasons: SmallVec::new(), plugin: "" }
    }

    pub fn with_plugin(mut self, plugin: &'static str) -> Status {
        self.plugin = plugin;
        self
    }

    #[inline]
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    #[inline]
    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }

    /// Unschedulable or UnschedulableAndUnresolvable.
    #[inline]
    pub fn is_rejected(&self) -> bool {
        matches!(self.code, Code::Unschedulable | Code::UnschedulableAndUnresolvable)
    }

    /// The reasons joined with `", "` (`Status.Message()`).
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}
