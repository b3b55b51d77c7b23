//! Scenario tests of the autoscaler and Fargate actors: the Auto Mode scale-up/scale-down story
//! (nodes, instance types, cost), consolidation under disruption budgets, NodePools applied on
//! the timeline, Fargate's provisioning delay and per-pod nodes, and validation errors.

use crate::report::{LogEntry, Report};
use crate::scenario::{Files, parse};
use crate::{Outcome, Scenario};
use kubesched_k8s::input::Input;

struct NoFiles;

impl Files for NoFiles {
    fn input(&self, rel: &str) -> Result<Input, String> {
        Err(format!("{rel}: no files in tests"))
    }
    fn read(&self, rel: &str) -> Result<(String, String), String> {
        Err(format!("{rel}: no files in tests"))
    }
}

fn load(text: &str) -> Scenario {
    match parse("t.yaml", text, &NoFiles, None) {
        Ok(s) => s,
        Err(errs) => panic!("{}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")),
    }
}

fn run(text: &str) -> Report {
    match crate::simulate(&load(text), None, None, &mut |_, _, _| {}) {
        Ok(Outcome::Single(r)) => *r,
        Ok(Outcome::Compare(_)) => panic!("no comparison expected"),
        Err(e) => panic!("{e}"),
    }
}

/// (instance type, created, ready, deleted, why deleted) / (pod, size, bound, deleted, billed s).
type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
type FargateRow<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, u64);

fn events<'a>(r: &'a Report, event: &str) -> Vec<&'a LogEntry> {
    r.events.iter().filter(|e| e.event == event).collect()
}

const INFLATE: &str = "
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: inflate, namespace: default}
      spec:
        replicas: 1
        selector: {matchLabels: {app: inflate}}
        template:
          metadata: {labels: {app: inflate}}
          spec:
            nodeSelector: {eks.amazonaws.com/compute-type: auto}
            containers: [{name: pause, image: pause, resources: {requests: {cpu: '1'}}}]
";

#[test]
fn auto_mode_scales_up_then_consolidates_and_the_cost_follows() {
    let text = format!(
        "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  autoMode: true\n  duration: 40m\n  cluster:\n    objects:{INFLATE}  events:\n  - {{at: 1m, scale: {{kind: Deployment, name: inflate, replicas: 100}}}}\n  - {{at: 10m, scale: {{kind: Deployment, name: inflate, replicas: 200}}}}\n  - {{at: 20m, scale: {{kind: Deployment, name: inflate, replicas: 50}}}}\n"
    );
    let r = run(&text);
    let a = r.autoscaling.as_ref().expect("autoscaling section");
    assert_eq!(a.node_pools, ["system", "general-purpose"]);
    assert!(a.auto_mode);
    let claims: Vec<Row> = a
        .node_claims
        .iter()
        .map(|c| {
            (
                c.instance_type.as_str(),
                c.created.as_str(),
                c.ready.as_deref(),
                c.deleted.as_deref(),
                c.deleted_because.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            // The first pod: the smallest c6a; batch 1 s, Ready 30 s after the launch 1 s later.
            ("c6a.large", "1s", Some("32s"), Some("1m55s"), Some("single-node consolidation")),
            // 99 more pods: one big node; the small one is consolidated away (its pod moves).
            ("c6a.32xlarge", "1m1s", Some("1m32s"), Some("21m36s"), Some("single-node consolidation")),
            ("c6a.24xlarge", "10m1s", Some("10m32s"), Some("20m45s"), Some("emptiness")),
            // Down to 50 pods: the emptied node goes, the big one is replaced by a cheaper one.
            ("c6a.16xlarge", "21m5s", Some("21m36s"), None, None),
        ]
    );
    assert_eq!((a.nodes_launched, a.nodes_deleted, a.nodes_at_end, a.peak_nodes), (4, 3, 1, 2));
    assert_eq!(r.summary.pods_running, 50);
    assert_eq!(r.summary.pods_pending, 0);
    let cost = r.cost.as_ref().expect("cost");
    assert_eq!((cost.hourly_at_end, cost.peak_hourly), (2.448, 8.568));
    assert_eq!(cost.total, 3.107621);
    // $/hour over time: nothing, one small node, the big one, both big ones, one replacement.
    let at = |t: &str| r.series.iter().find(|s| s.time == t).and_then(|s| s.hourly_cost);
    assert_eq!(
        [at("0s"), at("1m"), at("2m"), at("11m"), at("30m")],
        [Some(0.0), Some(0.0765), Some(4.896), Some(8.568), Some(2.448)]
    );
    // Disruptions were validated 15 s after the decision.
    let decided: Vec<&str> = events(&r, "DisruptionDecided").iter().map(|e| e.time.as_str()).collect();
    let started: Vec<&str> = events(&r, "DisruptionStarted").iter().map(|e| e.time.as_str()).collect();
    assert_eq!(decided, ["1m40s", "20m30s", "20m50s"]);
    assert_eq!(started, ["1m55s", "20m45s", "21m5s"]);
}

const POOL: &str = "
    - apiVersion: karpenter.sh/v1
      kind: NodePool
      metadata: {name: default}
      spec:
        template:
          spec:
            nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
            requirements:
            - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m]}
            - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
        disruption:
          consolidationPolicy: WhenEmptyOrUnderutilized
          consolidateAfter: 0s
          budgets: [{nodes: 50%}]
    - apiVersion: karpenter.k8s.aws/v1
      kind: EC2NodeClass
      metadata: {name: default}
      spec:
        role: KarpenterNodeRole
        amiSelectorTerms: [{alias: al2023@latest}]
        subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
        securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
";

const SPREAD: &str = "
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: default}
      spec:
        replicas: 4
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            affinity:
              podAntiAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
            containers: [{name: web, image: nginx, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
";

#[test]
fn emptiness_respects_the_disruption_budget() {
    let text = format!(
        "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  duration: 10m\n  cluster:\n    objects:{POOL}{SPREAD}  events:\n  - {{at: 2m, scale: {{kind: Deployment, name: web, replicas: 0}}}}\n"
    );
    let r = run(&text);
    let a = r.autoscaling.as_ref().expect("autoscaling section");
    // One node per pod (required anti-affinity), all launched in the first batch.
    assert_eq!(a.nodes_launched, 4);
    assert!(a.node_claims.iter().all(|c| c.created == "1s" && c.instance_type == "c6g.medium"), "{:?}", a.node_claims);
    // Four empty nodes; 50% of 4 → 2 at once, then 50% of 2 → 1, then 1.
    let deletions: Vec<(usize, &str)> = a.disruptions.iter().map(|d| (d.candidates.len(), d.time.as_str())).collect();
    assert_eq!(deletions, [(2, "2m10s"), (1, "2m30s"), (1, "2m50s")]);
    assert!(a.disruptions.iter().all(|d| d.method == "emptiness" && d.outcome == "executed"));
    assert_eq!(a.nodes_at_end, 0);
    assert_eq!(r.cost.as_ref().map(|c| c.hourly_at_end), Some(0.0));
}

#[test]
fn node_pools_applied_on_the_timeline_provision_from_then_on() {
    let pod = "
    - apiVersion: v1
      kind: Pod
      metadata: {name: waiting, namespace: default}
      spec:
        containers: [{name: c, image: x, resources: {requests: {cpu: '2', memory: 2Gi}}}]
";
    let pool: String =
        POOL.lines().map(|l| if l.trim().is_empty() { String::new() } else { format!("  {l}\n") }).collect();
    let text = format!(
        "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  duration: 5m\n  cluster:\n    objects:{pod}  events:\n  - at: 1m\n    apply:\n{pool}"
    );
    let s = load(&text);
    assert!(s.has_autoscaling());
    assert!(s.cloud_at_start.is_empty());
    let r = run(&text);
    let applied: Vec<String> = events(&r, "Applied").iter().filter_map(|e| e.object.clone()).collect();
    assert_eq!(applied, ["NodePool default", "EC2NodeClass default"]);
    let a = r.autoscaling.as_ref().expect("autoscaling section");
    assert_eq!(a.node_claims.len(), 1);
    // Before 1m there is no pool: the pod fails without a claim. Its next failed attempt after
    // the apply opens a batch; the claim's node takes it (the pool allows arm64: c6g is cheapest).
    let c = &a.node_claims[0];
    assert_eq!(c.instance_type, "c6g.xlarge");
    let state = r.pods.iter().find(|p| p.pod == "default/waiting").expect("pod");
    assert_eq!(state.node.as_deref(), Some(c.name.as_str()));
}

#[test]
fn fargate_pods_get_their_own_node_after_the_delay_and_it_goes_with_the_pod() {
    let text = "apiVersion: kubesched.io/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 15m
  fargate: {provisioningDelay: 40s, region: us-east-1}
  cluster:
    objects:
    - apiVersion: eksctl.io/v1alpha5
      kind: ClusterConfig
      metadata: {name: demo, region: us-east-1}
      fargateProfiles:
      - name: fp
        selectors: [{namespace: serverless}]
    - {apiVersion: v1, kind: Namespace, metadata: {name: serverless}}
    - {apiVersion: v1, kind: Pod, metadata: {name: best-effort, namespace: serverless}, spec: {containers: [{name: c, image: nginx}]}}
    - apiVersion: v1
      kind: Pod
      metadata: {name: half, namespace: serverless}
      spec:
        containers: [{name: c, image: nginx, resources: {requests: {cpu: 500m, memory: 500Mi}}}]
    - apiVersion: v1
      kind: Pod
      metadata: {name: debug, namespace: serverless}
      spec:
        hostNetwork: true
        containers: [{name: c, image: netshoot, securityContext: {privileged: true}}]
    - apiVersion: batch/v1
      kind: Job
      metadata: {name: report, namespace: serverless}
      spec:
        ttlSecondsAfterFinished: 300
        template:
          metadata: {annotations: {kubesched.io/duration: 2m}}
          spec:
            restartPolicy: Never
            containers: [{name: c, image: busybox, resources: {requests: {cpu: '1', memory: 2Gi}}}]
  events:
  - {at: 5m, delete: pod/serverless/best-effort}
";
    let r = run(text);
    let f = r.fargate.as_ref().expect("fargate section");
    let pods: Vec<FargateRow> = f
        .pods
        .iter()
        .map(|p| {
            (
                p.pod.as_str(),
                p.capacity_provisioned.as_str(),
                p.bound.as_deref(),
                p.deleted.as_deref(),
                p.billed_seconds,
            )
        })
        .collect();
    let job_pod =
        f.pods.iter().find(|p| p.pod.starts_with("serverless/report-")).map(|p| p.pod.as_str()).unwrap_or("?");
    assert_eq!(
        pods,
        [
            ("serverless/best-effort", "0.25vCPU 0.5GB", Some("40s"), Some("5m"), 260),
            ("serverless/half", "0.5vCPU 1GB", Some("40s"), None, 860),
            // The Job's pod succeeds at 2m40s; its node (and bill) stays until the TTL deletes
            // the pod at 7m40s.
            (job_pod, "1vCPU 3GB", Some("40s"), Some("7m40s"), 420),
        ]
    );
    // 0.25 × 0.04048 + 0.5 × 0.004445 = $0.0123425/h for 260 s.
    assert_eq!(f.pods[0].hourly_cost, 0.0123425);
    assert_eq!(f.pods[0].cost, 0.000891402778);
    assert_eq!(f.refused.len(), 1);
    assert_eq!(
        f.refused[0].message,
        "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged"
    );
    let debug = r.pods.iter().find(|p| p.pod == "serverless/debug").expect("debug pod");
    assert_eq!(debug.phase, "Pending");
    assert_eq!(debug.message.as_deref(), Some(f.refused[0].message.as_str()));
    // Nodes: added when the delay is over, deleted with their pod.
    let added: Vec<&str> = events(&r, "NodeAdded").iter().map(|e| e.time.as_str()).collect();
    let deleted: Vec<&str> = events(&r, "NodeDeleted").iter().map(|e| e.time.as_str()).collect();
    assert_eq!(added, ["40s", "40s", "40s"]);
    assert_eq!(deleted, ["5m", "7m40s"]);
    let at_end: Vec<&str> = r.nodes.iter().filter(|n| n.status != "Deleted").map(|n| n.node.as_str()).collect();
    assert_eq!(at_end, [f.pods[1].node.as_str()]);
    assert!(r.cost.as_ref().is_some_and(|c| c.fargate.is_some() && c.autoscaling.is_none()));
}

#[test]
fn bad_node_pools_and_fargate_settings_are_located_errors() {
    let text = "apiVersion: kubesched.io/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  fargate: {provisioningDelay: 50ms}
  cluster:
    objects:
    - apiVersion: karpenter.sh/v1
      kind: NodePool
      metadata: {name: p}
      spec:
        template:
          spec:
            nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: missing}
            requirements: []
";
    let errs: Vec<String> = match parse("t.yaml", text, &NoFiles, None) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    };
    assert_eq!(
        errs,
        [
            "t.yaml: document 1 (Scenario t), line 5: spec.fargate.provisioningDelay: Invalid value: provisioning delay 50 ms is shorter than the 125 ms micro-VM boot it includes",
            "t.yaml: document 1 (NodePool p), line 14: spec.template.spec.nodeClassRef.name: EC2NodeClass \"missing\" not found",
        ]
    );
}
