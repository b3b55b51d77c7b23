//! End-to-end: inter-pod affinity, anti-affinity and topology spread on YAML workloads.

mod common;
use common::{fixture, kubesched};
use std::collections::BTreeMap;

fn run(workload: &str) -> serde_json::Value {
    let run = kubesched(&["schedule", "-f", &fixture("affinity/cluster.yaml"), "-f", &fixture(workload), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

fn nodes_of<'a>(doc: &'a serde_json::Value, prefix: &str) -> Vec<&'a str> {
    doc["pods"]
        .as_array()
        .expect("pods is a list")
        .iter()
        .filter(|p| p["pod"].as_str().is_some_and(|k| k.starts_with(prefix)) && p["outcome"] == "Scheduled")
        .map(|p| p["node"].as_str().expect("a scheduled pod names its node"))
        .collect()
}

#[test]
fn required_anti_affinity_on_hostname_puts_one_replica_per_node() {
    let doc = run("affinity/web-anti-affinity.yaml");
    let mut nodes = nodes_of(&doc, "shop/web-");
    nodes.sort();
    assert_eq!(nodes, ["a1", "a2", "b1", "b2", "c1", "c2"]);
    let stuck: Vec<_> = doc["pods"].as_array().unwrap().iter().filter(|p| p["outcome"] == "Unschedulable").collect();
    assert_eq!(stuck.len(), 2);
    for p in stuck {
        assert_eq!(
            p["message"],
            "0/6 nodes are available: 6 node(s) didn't match pod anti-affinity rules. no new claims to deallocate, \
             preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod."
        );
    }
}

#[test]
fn required_affinity_follows_the_database_into_its_zone() {
    let doc = run("affinity/api-follows-db.yaml");
    let nodes = nodes_of(&doc, "shop/api-");
    assert_eq!(nodes.len(), 4);
    assert!(nodes.iter().all(|n| n.starts_with('b')), "{nodes:?}");
}

#[test]
fn zone_spread_with_max_skew_1_balances_the_zones() {
    let doc = run("affinity/zone-spread.yaml");
    let mut per_zone: BTreeMap<char, usize> = BTreeMap::new();
    for n in nodes_of(&doc, "shop/worker-") {
        *per_zone.entry(n.chars().next().unwrap()).or_default() += 1;
    }
    assert_eq!(per_zone, BTreeMap::from([('a', 3), ('b', 3), ('c', 3)]));
    // After three pods each zone has one; the fourth may go anywhere, the fifth only where
    // the count is lowest — the filter pass shows it.
    let fifth = doc["pods"].as_array().unwrap().iter().find(|p| p["pod"] == "shop/worker-4").unwrap();
    assert_eq!(fifth["feasibleNodes"], 4);
}
