//! kube-scheduler's plugins, one file each, and the registry that names them.

use crate::framework::Registry;

pub mod default_binder;
pub mod default_preemption;
pub mod gpu;
pub mod helper;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_balanced_allocation;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod priority_sort;
pub mod scheduling_gates;
pub mod taint_toleration;
pub mod unmodelled;

/// The in-tree registry: every plugin kube-scheduler's default profile can name.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(scheduling_gates::NAME, scheduling_gates::new);
    r.register(priority_sort::NAME, priority_sort::new);
    r.register(node_unschedulable::NAME, node_unschedulable::new);
    r.register(node_name::NAME, node_name::new);
    r.register(taint_toleration::NAME, taint_toleration::new);
    r.register(node_affinity::NAME, node_affinity::new);
    r.register(node_ports::NAME, node_ports::new);
    r.register(node_resources_fit::NAME, node_resources_fit::new);
    r.register(node_resources_balanced_allocation::NAME, node_resources_balanced_allocation::new);
    r.register(image_locality::NAME, image_locality::new);
    r.register(pod_topology_spread::NAME, pod_topology_spread::new);
    r.register(inter_pod_affinity::NAME, inter_pod_affinity::new);
    r.register(default_binder::NAME, default_binder::new);
    r.register(default_preemption::NAME, default_preemption::new);
    unmodelled::register(&mut r);
    gpu::register(&mut r);
    r
}

/// Rejects any args for plugins that take none.
pub(crate) fn no_args(args: &crate::args::ArgValue, path: &str) -> Result<(), crate::args::FieldError> {
    crate::args::read::known_keys(args, &[], path)
}
