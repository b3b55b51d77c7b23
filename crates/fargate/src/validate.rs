//! What Fargate refuses, with its message grammar (doc §3).
//!
//! ```text
//! "Pod not supported on Fargate: " + join(", ", failing parts)
//! ```
//! Every check runs and every failing one contributes one part, in the validator's order
//! (doc §3.2): scheduler name, DaemonSet, host namespaces, volumes, container security
//! contexts, volumeDevices, host ports. GPU / accelerator requests come last with kubesched's
//! own wording, since Fargate's text for them was never found (doc §3.5, §10).

use crate::reason::{REASON_UNSUPPORTED, Rejection};
use crate::sizing::parse_quantity;
use k8s_openapi::api::core::v1::{
    EphemeralContainer, PersistentVolume, PersistentVolumeClaim, Pod, SecurityContext, Volume,
};
use std::collections::BTreeMap;

/// The scheduler the webhook assigns (doc §0, §1.5).
pub const FARGATE_SCHEDULER_NAME: &str = "fargate-scheduler";
/// Prefix of every refusal message (doc §3.1).
pub const UNSUPPORTED_PREFIX: &str = "Pod not supported on Fargate: ";
/// The only CSI driver a PVC may be bound to (doc §3.3).
pub const EFS_CSI_DRIVER: &str = "efs.csi.aws.com";
/// Capabilities containers may add (the containerd default set; doc §3.4). Compared literally:
/// `CAP_CHOWN` is refused while `CHOWN` passes.
pub const DEFAULT_ALLOWED_CAPABILITIES: [&str; 14] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
/// Allowed only when the platform's `ADVANCED_LINUX_CAPS` flag is on (doc §3.4); off on EKS
/// as far as users can tell (`SYS_PTRACE` is refused, CR#2162).
pub const ADVANCED_CAPABILITIES: [&str; 4] = ["IPC_LOCK", "LINUX_IMMUTABLE", "SYS_PTRACE", "SYS_RESOURCE"];

/// Platform switches of the validator (doc §3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// `ADVANCED_LINUX_CAPS=true`: also allow [`ADVANCED_CAPABILITIES`].
    pub advanced_linux_caps: bool,
    /// `BLOCKED_LINUX_CAPS`: refuse these even if otherwise allowed.
    pub blocked_linux_caps: Vec<String>,
}

impl ValidationOptions {
    fn capability_allowed(&self, cap: &str) -> bool {
        if self.blocked_linux_caps.iter().any(|b| b == cap) {
            return false;
        }
        DEFAULT_ALLOWED_CAPABILITIES.contains(&cap)
            || (self.advanced_linux_caps && ADVANCED_CAPABILITIES.contains(&cap))
    }
}

/// PersistentVolumeClaims and PersistentVolumes known to the caller, for the PVC rule of
/// doc §3.3. Without a catalog, PVC volumes are not judged.
#[derive(Clone, Debug, Default)]
pub struct VolumeCatalog {
    claims: BTreeMap<(String, String), PersistentVolumeClaim>,
    volumes: BTreeMap<String, PersistentVolume>,
}

impl VolumeCatalog {
    pub fn new() -> VolumeCatalog {
        VolumeCatalog::default()
    }

    /// Adds a claim (namespace defaults to `default`).
    pub fn add_claim(&mut self, pvc: PersistentVolumeClaim) {
        let ns = pvc.metadata.namespace.clone().unwrap_or_else(|| "default".to_string());
        let name = pvc.metadata.name.clone().unwrap_or_default();
        self.claims.insert((ns, name), pvc);
    }

    pub fn add_volume(&mut self, pv: PersistentVolume) {
        let name = pv.metadata.name.clone().unwrap_or_default();
        self.volumes.insert(name, pv);
    }

    /// `None` when the claim is usable on Fargate, else the `<err>` of
    /// `<volume> not supported because: <err>` (doc §3.3, verbatim texts).
    pub fn claim_error(&self, namespace: &str, claim: &str) -> Option<String> {
        let Some(pvc) = self.claims.get(&(namespace.to_string(), claim.to_string())) else {
            return Some(format!("persistentvolumeclaim \"{claim}\" not found"));
        };
        let Some(pv_name) = self.bound_volume(namespace, claim, pvc) else {
            return Some(format!("PVC {claim} not bound"));
        };
        let Some(pv) = self.volumes.get(&pv_name) else {
            return Some(format!("persistentvolume \"{pv_name}\" not found"));
        };
        match pv.spec.as_ref().and_then(|s| s.csi.as_ref()) {
            None => Some(format!("PVC {claim} bound to invalid PV {pv_name} with nil CSI spec")),
            Some(csi) if csi.driver != EFS_CSI_DRIVER => {
                Some(format!("PVC {claim} bound to invalid PV {pv_name} with CSI Driver: {}", csi.driver))
            }
            Some(_) => None,
        }
    }

    /// The PV a claim is bound to. A claim with `status.phase` is taken at its word; a claim
    /// without status (a manifest not yet applied) is bound the way the PV controller would:
    /// to `spec.volumeName`, to a PV whose `claimRef` names it, or to the smallest unclaimed
    /// PV of the same storage class with enough capacity and the access modes (ties by name).
    fn bound_volume(&self, namespace: &str, claim: &str, pvc: &PersistentVolumeClaim) -> Option<String> {
        let spec = pvc.spec.as_ref();
        let volume_name = spec.and_then(|s| s.volume_name.clone()).filter(|n| !n.is_empty());
        match pvc.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Bound") => return volume_name,
            Some(_) => return None,
            None => {}
        }
        if let Some(name) = volume_name {
            return self.volumes.contains_key(&name).then_some(name);
        }
        let claimed_by = |pv: &PersistentVolume| {
            pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).map(|r| {
                (r.namespace.clone().unwrap_or_else(|| "default".to_string()), r.name.clone().unwrap_or_default())
            })
        };
        if let Some((name, _)) =
            self.volumes.iter().find(|(_, pv)| claimed_by(pv) == Some((namespace.to_string(), claim.to_string())))
        {
            return Some(name.clone());
        }
        let class = spec.and_then(|s| s.storage_class_name.clone()).unwrap_or_default();
        let wanted = spec
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .and_then(|q| parse_quantity(q, "storage", "", "").ok())
            .unwrap_or(0);
        let modes: Vec<String> = spec.and_then(|s| s.access_modes.clone()).unwrap_or_default();
        self.volumes
            .iter()
            .filter_map(|(name, pv)| {
                let s = pv.spec.as_ref()?;
                if claimed_by(pv).is_some() || s.storage_class_name.clone().unwrap_or_default() != class {
                    return None;
                }
                let pv_modes = s.access_modes.clone().unwrap_or_default();
                if !modes.iter().all(|m| pv_modes.contains(m)) {
                    return None;
                }
                let capacity = s
                    .capacity
                    .as_ref()
                    .and_then(|c| c.get("storage"))
                    .and_then(|q| parse_quantity(q, "storage", "", "").ok())?;
                (capacity >= wanted).then_some((capacity, name.clone()))
            })
            .min()
            .map(|(_, name)| name)
    }
}

/// The failing parts of the refusal message, in the validator's order; empty when Fargate
/// accepts the pod.
pub fn unsupported_parts(pod: &Pod, volumes: Option<&VolumeCatalog>, opts: &ValidationOptions) -> Vec<String> {
    let mut parts = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return parts;
    };
    // 1. The webhook hands Fargate pods to fargate-scheduler.
    if spec.scheduler_name.as_deref() != Some(FARGATE_SCHEDULER_NAME) {
        parts.push("SchedulerName is not fargate-scheduler".to_string());
    }
    // 2. DaemonSet pods.
    if pod.metadata.owner_references.iter().flatten().any(|o| o.kind == "DaemonSet") {
        parts.push("DaemonSet not supported".to_string());
    }
    // 3. Host namespaces.
    let mut fields = Vec::new();
    for (set, name) in [(spec.host_network, "HostNetwork"), (spec.host_pid, "HostPID"), (spec.host_ipc, "HostIPC")] {
        if set == Some(true) {
            fields.push(name);
        }
    }
    if !fields.is_empty() {
        parts.push(format!("fields not supported: {}", fields.join(", ")));
    }
    // 4. Volumes.
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let volume_reasons: Vec<String> =
        spec.volumes.iter().flatten().filter_map(|v| volume_reason(v, namespace, volumes)).collect();
    if !volume_reasons.is_empty() {
        parts.push(format!("volumes not supported: {}", volume_reasons.join(", ")));
    }
    // 5. Container security contexts: init, regular, ephemeral containers. One entry per
    //    container joined with "," (no space); fields within a container with ", ".
    let contexts = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| c.security_context.as_ref())
        .chain(spec.ephemeral_containers.iter().flatten().map(|c| c.security_context.as_ref()));
    let sc_reasons: Vec<String> = contexts.filter_map(|sc| security_context_reason(sc?, opts)).collect();
    if !sc_reasons.is_empty() {
        parts.push(format!("invalid SecurityContext fields: {}", sc_reasons.join(",")));
    }
    // 6. Raw block devices.
    let has_devices = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .any(|c| c.volume_devices.as_ref().is_some_and(|d| !d.is_empty()))
        || spec
            .ephemeral_containers
            .iter()
            .flatten()
            .any(|c: &EphemeralContainer| c.volume_devices.as_ref().is_some_and(|d| !d.is_empty()));
    if has_devices {
        parts.push("volumeDevices not supported".to_string());
    }
    // 7. Host ports.
    let host_port = spec.init_containers.iter().flatten().chain(spec.containers.iter()).any(|c| {
        c.ports
            .iter()
            .flatten()
            .any(|p| p.host_port.is_some_and(|hp| hp > 0) || p.host_ip.as_ref().is_some_and(|ip| !ip.is_empty()))
    });
    if host_port {
        parts.push("port contains HostIP or HostPort".to_string());
    }
    // kubesched: accelerators. No Fargate node offers them (doc §3.5); wording is ours.
    let mut accelerators: Vec<String> = Vec::new();
    for c in spec.init_containers.iter().flatten().chain(spec.containers.iter()) {
        let Some(r) = c.resources.as_ref() else { continue };
        for name in r.requests.iter().flatten().chain(r.limits.iter().flatten()).map(|(k, _)| k) {
            if is_accelerator(name) && !accelerators.contains(name) {
                accelerators.push(name.clone());
            }
        }
    }
    if !accelerators.is_empty() {
        parts.push(format!("resources not supported: {}", accelerators.join(", ")));
    }
    parts
}

/// The whole refusal, or `None` when every check passes.
pub fn validate_pod(pod: &Pod, volumes: Option<&VolumeCatalog>, opts: &ValidationOptions) -> Option<Rejection> {
    let parts = unsupported_parts(pod, volumes, opts);
    (!parts.is_empty()).then(|| Rejection::new(REASON_UNSUPPORTED, format!("{UNSUPPORTED_PREFIX}{}", parts.join(", "))))
}

/// GPUs and other accelerators: `<vendor>/gpu` (`nvidia.com/gpu`, `amd.com/gpu`),
/// `gpu.intel.com/*`, AWS Inferentia/Trainium `aws.amazon.com/neuron*`.
pub fn is_accelerator(resource: &str) -> bool {
    let Some((domain, name)) = resource.split_once('/') else { return false };
    name == "gpu" || domain == "gpu.intel.com" || (domain == "aws.amazon.com" && name.starts_with("neuron"))
}

/// Volume sources Fargate mounts (doc §3.3).
fn volume_reason(v: &Volume, namespace: &str, catalog: Option<&VolumeCatalog>) -> Option<String> {
    if let Some(pvc) = &v.persistent_volume_claim {
        let err = catalog?.claim_error(namespace, &pvc.claim_name)?;
        return Some(format!("{} not supported because: {err}", v.name));
    }
    let allowed = v.empty_dir.is_some()
        || v.secret.is_some()
        || v.config_map.is_some()
        || v.projected.is_some()
        || v.downward_api.is_some()
        || v.nfs.is_some();
    if allowed || !has_other_source(v) {
        // A volume with no source at all is defaulted to emptyDir by the API server.
        return None;
    }
    Some(format!("{} is of an unsupported volume Type", v.name))
}

/// True when some source besides the allowed ones is set (hostPath, awsElasticBlockStore,
/// csi, ephemeral, image, iscsi, …), whatever the API version adds later.
fn has_other_source(v: &Volume) -> bool {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m.iter().any(|(k, val)| k != "name" && !val.is_null()),
        _ => false,
    }
}

/// `Privileged`, `AllowPrivilegeEscalation`, `Capabilities added: X, Y` for one container.
fn security_context_reason(sc: &SecurityContext, opts: &ValidationOptions) -> Option<String> {
    let mut fields = Vec::new();
    if sc.privileged == Some(true) {
        fields.push("Privileged".to_string());
    }
    if sc.allow_privilege_escalation == Some(true) {
        fields.push("AllowPrivilegeEscalation".to_string());
    }
    let refused: Vec<&str> = sc
        .capabilities
        .as_ref()
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|cap| !opts.capability_allowed(cap))
        .collect();
    if !refused.is_empty() {
        fields.push(format!("Capabilities added: {}", refused.join(", ")));
    }
    (!fields.is_empty()).then(|| fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> Pod {
        let mut spec = spec;
        if spec.get("schedulerName").is_none() {
            spec["schedulerName"] = json!("fargate-scheduler");
        }
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec})).unwrap()
    }

    fn message(p: &Pod) -> Option<String> {
        validate_pod(p, None, &ValidationOptions::default()).map(|r| r.message)
    }

    fn container(extra: Value) -> Value {
        let mut c = json!({"name": "c", "image": "busybox"});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    }

    #[test]
    fn a_plain_pod_passes() {
        let p = pod(json!({"containers": [container(json!({}))],
                           "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "x"}},
                                       {"name": "tok", "projected": {"sources": []}}, {"name": "s", "secret": {"secretName": "s"}},
                                       {"name": "d", "downwardAPI": {}}, {"name": "n", "nfs": {"server": "fs", "path": "/"}},
                                       {"name": "bare"}]}));
        assert_eq!(message(&p), None);
    }

    #[test]
    fn the_issue_example() {
        let p = pod(json!({
            "hostNetwork": true, "hostPID": true, "hostIPC": true,
            "containers": [container(json!({"securityContext": {"privileged": true}}))],
            "volumes": [{"name": "hostroot", "hostPath": {"path": "/"}}]
        }));
        assert_eq!(
            message(&p).as_deref(),
            Some(
                "Pod not supported on Fargate: fields not supported: HostNetwork, HostPID, HostIPC, volumes not \
                 supported: hostroot is of an unsupported volume Type, invalid SecurityContext fields: Privileged"
            )
        );
    }

    #[test]
    fn efs_csi_driver_issue_589() {
        // kubernetes-sigs/aws-efs-csi-driver#589: the node DaemonSet-like pod pinned by hostNetwork.
        let p = pod(json!({
            "hostNetwork": true,
            "containers": [container(json!({"securityContext": {"privileged": true},
                                             "ports": [{"containerPort": 9809, "hostPort": 9809}]}))]
        }));
        assert_eq!(
            message(&p).as_deref(),
            Some(
                "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: \
                 Privileged, port contains HostIP or HostPort"
            )
        );
    }

    #[test]
    fn security_context_grammar() {
        let two = pod(json!({"containers": [
            container(json!({"name": "a", "securityContext": {"privileged": true}})),
            container(json!({"name": "b", "securityContext": {"privileged": true}}))
        ]}));
        assert_eq!(
            message(&two).as_deref(),
            Some("Pod not supported on Fargate: invalid SecurityContext fields: Privileged,Privileged")
        );
        let ape =
            pod(json!({"containers": [container(json!({"securityContext": {"allowPrivilegeEscalation": true}}))]}));
        assert_eq!(
            message(&ape).as_deref(),
            Some("Pod not supported on Fargate: invalid SecurityContext fields: AllowPrivilegeEscalation")
        );
        let chown = pod(
            json!({"containers": [container(json!({"securityContext": {"capabilities": {"add": ["CAP_CHOWN"]}}}))]}),
        );
        assert_eq!(
            message(&chown).as_deref(),
            Some("Pod not supported on Fargate: invalid SecurityContext fields: Capabilities added: CAP_CHOWN")
        );
        // Without the prefix, CHOWN is in the default set; dropping is free; false is fine.
        let ok = pod(json!({"containers": [container(json!({"securityContext": {
            "privileged": false, "allowPrivilegeEscalation": false,
            "capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"], "drop": ["ALL"]}}}))]}));
        assert_eq!(message(&ok), None);
        // Within one container ", "; init and ephemeral containers count.
        let mixed = pod(json!({
            "initContainers": [container(json!({"name": "init", "securityContext": {"privileged": true,
                "capabilities": {"add": ["SYS_ADMIN", "KILL", "SYS_PTRACE"]}}}))],
            "containers": [container(json!({}))],
            "ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": {"allowPrivilegeEscalation": true}}]
        }));
        assert_eq!(
            message(&mixed).as_deref(),
            Some(
                "Pod not supported on Fargate: invalid SecurityContext fields: Privileged, Capabilities added: SYS_ADMIN, SYS_PTRACE,AllowPrivilegeEscalation"
            )
        );
    }

    #[test]
    fn capability_switches() {
        let ptrace = pod(
            json!({"containers": [container(json!({"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}))]}),
        );
        assert!(message(&ptrace).is_some());
        let advanced = ValidationOptions { advanced_linux_caps: true, ..Default::default() };
        assert_eq!(validate_pod(&ptrace, None, &advanced), None);
        let blocked = ValidationOptions { blocked_linux_caps: vec!["NET_RAW".into()], ..Default::default() };
        let raw =
            pod(json!({"containers": [container(json!({"securityContext": {"capabilities": {"add": ["NET_RAW"]}}}))]}));
        assert_eq!(validate_pod(&raw, None, &ValidationOptions::default()), None);
        assert_eq!(
            validate_pod(&raw, None, &blocked).map(|r| r.message).as_deref(),
            Some("Pod not supported on Fargate: invalid SecurityContext fields: Capabilities added: NET_RAW")
        );
    }

    #[test]
    fn every_check_in_validator_order() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "u"}]},
            "spec": {
                "hostIPC": true,
                "containers": [container(json!({
                    "securityContext": {"privileged": true},
                    "volumeDevices": [{"name": "blk", "devicePath": "/dev/xvda"}],
                    "ports": [{"containerPort": 80, "hostIP": "10.0.0.1"}],
                    "resources": {"limits": {"nvidia.com/gpu": "1"}}
                }))],
                "volumes": [{"name": "ebs", "awsElasticBlockStore": {"volumeID": "vol-1"}},
                            {"name": "inline", "csi": {"driver": "ebs.csi.aws.com"}},
                            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]
            }
        }))
        .unwrap();
        assert_eq!(
            message(&p).as_deref(),
            Some(
                "Pod not supported on Fargate: SchedulerName is not fargate-scheduler, DaemonSet not supported, \
                 fields not supported: HostIPC, volumes not supported: ebs is of an unsupported volume Type, inline \
                 is of an unsupported volume Type, scratch is of an unsupported volume Type, invalid SecurityContext \
                 fields: Privileged, volumeDevices not supported, port contains HostIP or HostPort, resources not \
                 supported: nvidia.com/gpu"
            )
        );
        assert_eq!(validate_pod(&p, None, &ValidationOptions::default()).unwrap().reason, "POD_UNSUPPORTED_ON_FARGATE");
    }

    #[test]
    fn accelerators() {
        for name in [
            "nvidia.com/gpu",
            "amd.com/gpu",
            "gpu.intel.com/i915",
            "aws.amazon.com/neuron",
            "aws.amazon.com/neuroncore",
        ] {
            assert!(is_accelerator(name), "{name}");
        }
        for name in ["cpu", "memory", "example.com/foo", "vpc.amazonaws.com/pod-eni", "hugepages-2Mi"] {
            assert!(!is_accelerator(name), "{name}");
        }
    }

    fn catalog() -> VolumeCatalog {
        let mut c = VolumeCatalog::new();
        let claims = json!([
            {"metadata": {"name": "efs-claim", "namespace": "default"},
             "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc", "resources": {"requests": {"storage": "5Gi"}}}},
            {"metadata": {"name": "ebs-claim", "namespace": "default"}, "spec": {"volumeName": "pv-ebs"}, "status": {"phase": "Bound"}},
            {"metadata": {"name": "legacy-claim", "namespace": "default"}, "spec": {"volumeName": "pv-nfs"}, "status": {"phase": "Bound"}},
            {"metadata": {"name": "pending-claim", "namespace": "default"}, "spec": {"storageClassName": "gp3"}, "status": {"phase": "Pending"}},
            {"metadata": {"name": "dyn-claim", "namespace": "default"}, "spec": {"storageClassName": "gp3",
             "resources": {"requests": {"storage": "1Gi"}}}}
        ]);
        for pvc in claims.as_array().unwrap() {
            c.add_claim(serde_json::from_value(pvc.clone()).unwrap());
        }
        let pvs = json!([
            {"metadata": {"name": "efs-pv"}, "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"],
             "storageClassName": "efs-sc", "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-12345678"}}},
            {"metadata": {"name": "pv-ebs"}, "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}}},
            {"metadata": {"name": "pv-nfs"}, "spec": {"nfs": {"server": "fs", "path": "/"}}}
        ]);
        for pv in pvs.as_array().unwrap() {
            c.add_volume(serde_json::from_value(pv.clone()).unwrap());
        }
        c
    }

    #[test]
    fn persistent_volume_claims() {
        let c = catalog();
        // Static EFS provisioning binds (no status yet: matched like the PV controller would).
        assert_eq!(c.claim_error("default", "efs-claim"), None);
        assert_eq!(
            c.claim_error("default", "ebs-claim").as_deref(),
            Some("PVC ebs-claim bound to invalid PV pv-ebs with CSI Driver: ebs.csi.aws.com")
        );
        assert_eq!(
            c.claim_error("default", "legacy-claim").as_deref(),
            Some("PVC legacy-claim bound to invalid PV pv-nfs with nil CSI spec")
        );
        assert_eq!(c.claim_error("default", "pending-claim").as_deref(), Some("PVC pending-claim not bound"));
        assert_eq!(c.claim_error("default", "dyn-claim").as_deref(), Some("PVC dyn-claim not bound"));
        assert_eq!(
            c.claim_error("default", "test-pvc").as_deref(),
            Some("persistentvolumeclaim \"test-pvc\" not found")
        );
        assert_eq!(
            c.claim_error("other", "efs-claim").as_deref(),
            Some("persistentvolumeclaim \"efs-claim\" not found")
        );

        let p = pod(json!({"containers": [container(json!({}))], "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "efs-claim"}},
            {"name": "file-storage", "persistentVolumeClaim": {"claimName": "pending-claim"}},
            {"name": "ebs", "persistentVolumeClaim": {"claimName": "ebs-claim"}}
        ]}));
        assert_eq!(
            validate_pod(&p, Some(&c), &ValidationOptions::default()).map(|r| r.message).as_deref(),
            Some(
                "Pod not supported on Fargate: volumes not supported: file-storage not supported because: PVC \
                 pending-claim not bound, ebs not supported because: PVC ebs-claim bound to invalid PV pv-ebs with \
                 CSI Driver: ebs.csi.aws.com"
            )
        );
        // Without a catalog PVCs are not judged.
        assert_eq!(validate_pod(&p, None, &ValidationOptions::default()), None);
    }
}
