//! DefaultBinder (Bind): the binding itself is recorded by whoever drives the cycle (the CLI,
//! the simulator, or the live layer's API call); the plugin exists so configurations that name
//! it, or disable it for another binder, mean what they mean in kube-scheduler.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, Points};
use std::sync::Arc;

pub const NAME: &str = "DefaultBinder";

pub struct DefaultBinder;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(DefaultBinder))
}

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::BIND
    }
}
