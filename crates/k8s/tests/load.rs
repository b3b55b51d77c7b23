//! End-to-end loading: fixtures and in-memory manifests through read → decode → admission →
//! controllers → conversion.

use kubesched_core::Sym;
use kubesched_core::model::{Readiness, TaintEffect};
use kubesched_k8s::controllers::target_node_name;
use kubesched_k8s::{Cluster, ErrorKind, Input, LoadOptions, load};
use std::path::PathBuf;

fn fixture(name: &str) -> Input {
    Input::Path(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name))
}

fn load_text(name: &str, text: &str) -> Cluster {
    load(&[Input::text(name, text)], &LoadOptions::default())
}

fn pod_names(c: &Cluster) -> Vec<String> {
    c.pods.iter().map(|p| p.model.key()).collect()
}

#[test]
fn a_cluster_dump_loads_without_doubling_anything() {
    let c = load(&[fixture("dump.yaml")], &LoadOptions::default());
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.nodes.iter().map(|n| n.model.name.as_str()).collect::<Vec<_>>(), ["cp-1", "worker-1", "worker-2"]);
    assert_eq!(
        pod_names(&c),
        [
            "shop/web-7d4b9c8f5-2xkqz",
            "shop/web-7d4b9c8f5-8hvtc",
            "shop/web-7d4b9c8f5-q9wmd",
            "kube-system/kube-proxy-7xq2p",
            "kube-system/kube-proxy-b4lmn",
            "kube-system/kube-proxy-r8d5w",
            "default/batch-runner",
        ]
    );
    assert!(c.pods.iter().all(|p| !p.generated));
    assert_eq!(c.replica_sets.len(), 1);
    assert!(!c.replica_sets[0].generated);
    assert_eq!((c.deployments.len(), c.daemon_sets.len()), (1, 1));

    let cp = &c.nodes[0].model;
    assert_eq!(cp.taints.len(), 1);
    assert_eq!(cp.taints[0].effect, TaintEffect::NoSchedule);
    assert_eq!(cp.allocatable.memory, 8_025_676 * 1024);
    assert_eq!(cp.allocatable.pods, 110);
    assert_eq!(cp.readiness, Readiness::Ready);
    assert_eq!(cp.images[0].names.len(), 2);
    assert_eq!(c.nodes[0].source.item, Some(1));

    let web = &c.pods[0].model;
    assert_eq!(web.node_name, Some(Sym::new("worker-1")));
    assert_eq!((web.requests().cpu, web.requests().memory), (250, 128 << 20));
    assert_eq!(web.tolerations.len(), 2, "dump pods keep their tolerations, not doubled");
    assert_eq!(web.owner.as_ref().map(|o| o.kind.as_str()), Some("ReplicaSet"));
    assert_eq!(c.pods[2].model.node_name, None);
    assert_eq!(c.pods[5].model.priority, 2_000_001_000);
    assert_eq!(target_node_name(&c.pods[5].object).as_deref(), Some("worker-2"));
    let batch = &c.pods[6];
    assert_eq!(batch.model.priority, 2_000_000_000);
    assert!(batch.model.annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
    assert_eq!(batch.source.file.as_ref(), fixture_path("dump.yaml"));
    assert_eq!(batch.source.item, Some(10));
    // The ReplicaSet's selector is a workload selector (topology spread's default constraints).
    assert_eq!(c.workload_selectors.len(), 1);
}

fn fixture_path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}

const DEPLOYMENT: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: 4, memory: 8Gi, pods: 110}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: example/api:1
        resources: {limits: {cpu: 500m, memory: 256Mi}}
"#;

#[test]
fn deployments_expand_through_a_replica_set_deterministically() {
    let c = load_text("deploy.yaml", DEPLOYMENT);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    assert_eq!(c.replica_sets.len(), 1);
    let rs = &c.replica_sets[0];
    assert!(rs.generated);
    let rs_name = rs.object.metadata.name.clone().unwrap_or_default();
    assert!(rs_name.starts_with("api-"));
    let hash = rs_name.trim_start_matches("api-").to_string();
    assert_eq!(c.pods.len(), 3);
    for p in &c.pods {
        assert!(p.generated);
        assert_eq!(p.source.document, 2);
        let name = p.model.name.as_str();
        assert!(name.starts_with(&format!("{rs_name}-")) && name.len() == rs_name.len() + 6, "{name}");
        assert_eq!(p.model.labels.get(Sym::new("pod-template-hash")), Some(Sym::new(&hash)));
        // Limits were copied into requests by admission.
        assert_eq!((p.model.requests().cpu, p.model.requests().memory), (500, 256 << 20));
        assert_eq!(p.model.owner.as_ref().map(|o| o.name.as_str()), Some(rs_name.as_str()));
        assert_eq!(p.model.tolerations.len(), 2, "DefaultTolerationSeconds");
        assert_eq!(p.model.node_name, None);
    }
    let again = load_text("deploy.yaml", DEPLOYMENT);
    assert_eq!(pod_names(&c), pod_names(&again));
    let other_seed = load(&[Input::text("deploy.yaml", DEPLOYMENT)], &LoadOptions { seed: 9, ..Default::default() });
    assert_ne!(pod_names(&c), pod_names(&other_seed));
    // Loading the generated ReplicaSet and pods back (as a later dump would) creates nothing.
    let mut text = String::from(DEPLOYMENT);
    for p in &c.pods {
        let mut pod = (*p.object).clone();
        if let Some(s) = pod.spec.as_mut() {
            s.node_name = Some("n1".into());
        }
        text.push_str("---\n");
        text.push_str(&serde_json::to_string(&pod).expect("json"));
        text.push('\n');
    }
    text.push_str("---\n");
    text.push_str(&serde_json::to_string(&*rs.object).expect("json"));
    let round = load_text("round.yaml", &text);
    assert!(round.errors.is_empty(), "{:#?}", round.errors);
    assert_eq!(round.pods.len(), 3);
    assert!(round.pods.iter().all(|p| !p.generated));
    assert_eq!(round.replica_sets.len(), 1);
    assert!(!round.replica_sets[0].generated);
}

#[test]
fn daemonsets_cover_eligible_nodes_only() {
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: plain, labels: {kubernetes.io/os: linux}}
status: {allocatable: {cpu: 2, memory: 4Gi, pods: 110}}
---
apiVersion: v1
kind: Node
metadata: {name: gpu, labels: {kubernetes.io/os: linux}}
spec: {taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]}
status: {allocatable: {cpu: 2, memory: 4Gi, pods: 110}}
---
apiVersion: v1
kind: Node
metadata: {name: win, labels: {kubernetes.io/os: windows}}
status: {allocatable: {cpu: 2, memory: 4Gi, pods: 110}}
---
apiVersion: v1
kind: Node
metadata: {name: cordoned, labels: {kubernetes.io/os: linux}}
spec:
  unschedulable: true
  taints: [{key: node.kubernetes.io/unschedulable, effect: NoSchedule}]
status: {allocatable: {cpu: 2, memory: 4Gi, pods: 110}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs, namespace: ops}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: c, image: fluent-bit, resources: {requests: {cpu: 50m}}}]
"#;
    let c = load_text("ds.yaml", text);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    let targets: Vec<String> = c.pods.iter().filter_map(|p| target_node_name(&p.object)).collect();
    assert_eq!(targets, ["plain", "cordoned"]);
    for p in &c.pods {
        let req = p.model.affinity.node_affinity.as_ref().and_then(|a| a.required.as_ref()).expect("pinned");
        assert_eq!(req.terms.len(), 1);
        assert_eq!(req.terms[0].match_fields.len(), 1);
        // DaemonSet defaults (6) — DefaultTolerationSeconds adds nothing, they are tolerated.
        assert_eq!(p.model.tolerations.len(), 6);
        assert!(p.model.is_daemonset_pod());
    }
    // With an existing pod on `plain`, only `cordoned` is created.
    let existing = r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: logs-abcde
  namespace: ops
  labels: {app: logs}
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: logs, uid: "", controller: true}]
spec:
  nodeName: plain
  containers: [{name: c, image: fluent-bit}]
status: {phase: Running}
"#;
    let c2 = load_text("ds.yaml", &format!("{text}{existing}"));
    assert!(c2.errors.is_empty(), "{:#?}", c2.errors);
    let generated: Vec<String> =
        c2.pods.iter().filter(|p| p.generated).filter_map(|p| target_node_name(&p.object)).collect();
    assert_eq!(generated, ["cordoned"]);
}

#[test]
fn statefulsets_jobs_and_replica_sets_expand() {
    let text = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: postgres}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  parallelism: 5
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: nginx}]}
"#;
    let c = load_text("w.yaml", text);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    let names = pod_names(&c);
    assert_eq!(&names[..2], ["default/db-0", "default/db-1"]);
    assert!(names[2].starts_with("default/report-") && names[3].starts_with("default/report-"));
    assert!(names[4].starts_with("default/legacy-") && names[5].starts_with("default/legacy-"));
    assert_eq!(names.len(), 6);
    let job_pod = &c.pods[2].model;
    let uid = c.jobs[0].object.metadata.uid.clone().unwrap_or_default();
    assert!(!uid.is_empty());
    for key in ["batch.kubernetes.io/job-name", "job-name"] {
        assert_eq!(job_pod.labels.get(Sym::new(key)), Some(Sym::new("report")));
    }
    for key in ["batch.kubernetes.io/controller-uid", "controller-uid"] {
        assert_eq!(job_pod.labels.get(Sym::new(key)), Some(Sym::new(&uid)));
    }
    assert_eq!(job_pod.owner.as_ref().map(|o| o.uid.as_str()), Some(uid.as_str()));
    assert_eq!(c.pods[1].model.labels.get(Sym::new("apps.kubernetes.io/pod-index")), Some(Sym::new("1")));
    // RC and StatefulSet selectors.
    assert_eq!(c.workload_selectors.len(), 2);
}

#[test]
fn priority_classes_resolve_and_absent_ones_are_refused() {
    let text = r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: batch-low}
value: -10
globalDefault: true
preemptionPolicy: Never
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default}
spec:
  priorityClassName: gold
  containers: [{name: c}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 4
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      priorityClassName: silver
      containers: [{name: c}]
"#;
    let c = load_text("prio.yaml", text);
    assert_eq!(pod_names(&c), ["default/plain"]);
    let plain = &c.pods[0].model;
    assert_eq!(plain.priority, -10);
    assert_eq!(plain.priority_class_name, Some(Sym::new("batch-low")));
    assert_eq!(plain.preemption_policy, kubesched_core::model::PreemptionPolicy::Never);
    let errs: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "prio.yaml: document 3 (Pod default/web-1), line 18: spec.priorityClassName: pods \"web-1\" is forbidden: no PriorityClass with name gold was found",
            // Reported once for the ReplicaSet, at its template, with the generateName prefix.
            "prio.yaml: document 4 (ReplicaSet default/rs), line 30: spec.template.spec.priorityClassName: pods \"rs-\" is forbidden: no PriorityClass with name silver was found",
        ]
    );
    assert!(c.errors.iter().all(|e| e.kind == ErrorKind::Forbidden));
}

#[test]
fn several_bad_documents_are_reported_together_and_good_ones_kept() {
    let c = load(&[fixture("bad.yaml"), fixture("good.json")], &LoadOptions::default());
    let errs: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    let bad = fixture_path("bad.yaml");
    let good = fixture_path("good.json");
    let expected = [
        format!(
            "{bad}: document 1 (Pod default/cpu-typo), line 10: spec.containers[0].resources.requests.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ),
        format!(
            "{bad}: document 2 (Node no-alloc), line 16: status.allocatable: Required value: the scheduler places pods against the node's allocatable resources"
        ),
        format!("{bad}: document 3, line 20: kind: Required value: Object 'Kind' is missing"),
        format!(
            "{bad}: document 4 (Pod default/labels), line 30: metadata.labels.tier: invalid type: integer `3`, expected a string"
        ),
        format!("{bad}: document 5 (Pod), line 36: metadata.name: Required value: name or generateName is required"),
        format!("{bad}: document 6 (Pod default/no-containers), line 45: spec.containers: Required value"),
        format!(
            "{bad}: document 7 (Pod default/neg), line 55: spec.overhead.memory: Invalid value: \"-5Mi\": must be greater than or equal to 0"
        ),
        format!("{bad}: document 9, line 70: illegal placement of ':' indicator"),
        format!(
            "{good}: document 1, item 2 (Pod default/json-bad), line 15: spec.containers[0].ports[0].containerPort: invalid type: string \"http\", expected i32"
        ),
    ];
    assert_eq!(errs, expected);
    // The good documents around the bad ones loaded.
    assert_eq!(pod_names(&c), ["default/fine", "default/json-ok"]);
    assert_eq!(c.nodes.len(), 0);
}

#[test]
fn generated_pod_errors_point_into_the_workload_template() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 5\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n      - name: c\n        resources:\n          requests:\n            memory: 12 GB\n";
    let c = load_text("d.yaml", text);
    let errs: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "d.yaml: document 1 (Deployment default/d), line 14: spec.template.spec.containers[0].resources.requests.memory: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ]
    );
    assert!(c.pods.is_empty());
}

#[test]
fn stdin_json_lists_and_duplicates() {
    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": 1, "memory": "1Gi", "pods": 10}}},
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": 2}}}
    ]}"#;
    let c = load(&[Input::Stdin(json.into())], &LoadOptions::default());
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(c.nodes[0].model.allocatable.cpu, 1000);
    let errs: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "<stdin>: document 1, item 2 (Node n1), line 3: metadata.name: nodes \"n1\" already exists (first defined in <stdin>: document 1, item 1)"
        ]
    );
    assert_eq!(c.errors[0].kind, ErrorKind::Duplicate);
}

#[test]
fn raw_documents_pass_through_for_other_crates() {
    let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: default}\nspec: {limits: {cpu: 1000}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
    let c = load_text("raw.yaml", text);
    assert!(c.errors.is_empty());
    assert_eq!(c.raw.len(), 3);
    assert_eq!(c.raw[0].value["spec"]["limits"]["cpu"], serde_json::json!(1000));
    assert_eq!(c.raw[0].source.line, 1);
    assert_eq!(c.unclaimed_kind_warnings(&["NodePool"]), ["skipping 2 objects of unsupported kind ConfigMap"]);
}

#[test]
fn orphans_are_adopted_by_selector_once() {
    let text = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: a}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: b}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: x1, labels: {app: x}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: x2, labels: {app: x}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: other, labels: {app: x}}
spec: {containers: [{name: c}]}
"#;
    let c = load_text("orphans.yaml", text);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    // `a` adopts both orphans of its namespace; `b` finds none left and creates its two.
    let generated: Vec<String> = c.pods.iter().filter(|p| p.generated).map(|p| p.model.key()).collect();
    assert_eq!(generated.len(), 2);
    assert!(generated.iter().all(|k| k.starts_with("default/b-")), "{generated:?}");
}

#[test]
fn deployments_whose_replica_set_is_missing_from_a_dump_are_not_doubled() {
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d1}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9c8f5-aaaaa
  namespace: shop
  labels: {app: web, pod-template-hash: 7d4b9c8f5}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c8f5, uid: rs1, controller: true}]
spec: {nodeName: n1, containers: [{name: c}]}
status: {phase: Running}
"#;
    let c = load_text("partial.yaml", text);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    assert_eq!(pod_names(&c), ["shop/web-7d4b9c8f5-aaaaa"]);
    assert!(c.replica_sets.is_empty());
    assert_eq!(
        c.warnings,
        [
            "partial.yaml: document 1: Deployment shop/web: its ReplicaSet web-7d4b9c8f5 is not in the input; its pods are kept and no ReplicaSet is created"
        ]
    );
}

#[test]
fn the_simulator_admits_and_converts_pods_one_at_a_time() {
    use kubesched_k8s::admission::{AdmissionChain, PriorityClasses};
    use kubesched_k8s::controllers::{NameGenerator, replicaset_pods_to_create};
    let c = load_text("deploy.yaml", DEPLOYMENT);
    let rs = &c.replica_sets[0].object;
    let existing: Vec<&k8s_openapi::api::core::v1::Pod> = c.pods.iter().map(|p| &*p.object).collect();
    let mut names = NameGenerator::new(0);
    for p in &existing {
        names.reserve("shop", p.metadata.name.as_deref().unwrap_or_default());
    }
    // Scale up by one: the ReplicaSet wants 4 and owns 3.
    let mut scaled = (**rs).clone();
    if let Some(s) = scaled.spec.as_mut() {
        s.replicas = Some(4);
    }
    let mut new = replicaset_pods_to_create(&scaled, &existing, &mut names);
    assert_eq!(new.len(), 1);
    let model =
        kubesched_k8s::admit_and_convert(&mut new[0], &AdmissionChain::standard(), &PriorityClasses::new(), &mut names)
            .expect("admits");
    assert_eq!(model.requests().cpu, 500);
    assert_eq!(model.tolerations.len(), 2);
    assert!(!pod_names(&c).contains(&model.key()));
    let mut bad = new[0].clone();
    if let Some(s) = bad.spec.as_mut() {
        s.priority_class_name = Some("nope".into());
        s.priority = None;
    }
    let err =
        kubesched_k8s::admit_and_convert(&mut bad, &AdmissionChain::standard(), &PriorityClasses::new(), &mut names)
            .expect_err("refused");
    assert!(err.to_string().ends_with("is forbidden: no PriorityClass with name nope was found"), "{err}");
}
