//! ImageLocality: prefer nodes that already have the pod's images, weighted by how widely
//! each image is spread over the cluster.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::intern::Sym;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "ImageLocality";
const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

pub struct ImageLocality;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(ImageLocality))
}

/// `normalizedImageName`: append `:latest` when the name has neither tag nor digest.
pub fn normalized_image_name(name: &str) -> String {
    let last_colon = name.rfind(':');
    let last_slash = name.rfind('/');
    let has_tag = match (last_colon, last_slash) {
        (Some(c), Some(s)) => c > s,
        (Some(_), None) => true,
        _ => false,
    };
    if has_tag || name.contains('@') { name.to_string() } else { format!("{name}:latest") }
}

fn calculate_priority(sum: i64, num_containers: usize) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * num_containers as i64;
    let sum = if sum < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum > max_threshold {
        max_threshold
    } else {
        sum
    };
    if max_threshold <= MIN_THRESHOLD {
        return 0;
    }
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

fn image_size(node: &NodeInfo, name: Sym) -> Option<i64> {
    node.node.images.iter().find(|img| img.names.contains(&name)).map(|img| img.size_bytes)
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_SCORE | Points::SCORE
    }

    /// kube's ImageLocality has no PreScore; skipping when no node has any of the pod's images
    /// changes nothing (every node would score 0, and a skipped plugin contributes 0) and saves
    /// scoring every node.
    fn pre_score(&self, cx: PodCx<'_>, _state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        let pod = cx.pod;
        let any =
            pod.init_containers.iter().chain(&pod.containers).any(|c| cx.snapshot.nodes_having_image(c.image) > 0);
        if any { Status::success() } else { Status::skip() }
    }

    fn score(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> i64 {
        let pod = cx.pod;
        let num_containers = pod.init_containers.len() + pod.containers.len();
        if node.node.images.is_empty() {
            return calculate_priority(0, num_containers);
        }
        let total_nodes = cx.snapshot.num_nodes().max(1) as f64;
        let mut sum = 0i64;
        for c in pod.init_containers.iter().chain(&pod.containers) {
            if let Some(size) = image_size(node, c.image) {
                let spread = cx.snapshot.nodes_having_image(c.image) as f64 / total_nodes;
                sum += (size as f64 * spread) as i64;
            }
        }
        calculate_priority(sum, num_containers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, Node, NodeImage, Pod};
    use crate::snapshot::Snapshot;

    #[test]
    fn image_names_are_normalized() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("nginx:1.25"), "nginx:1.25");
        assert_eq!(normalized_image_name("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalized_image_name("repo/app@sha256:abc"), "repo/app@sha256:abc");
    }

    #[test]
    fn score_scales_with_size_and_spread() {
        let mut s = Snapshot::new();
        let image = Sym::new("gcr.io/big:v1");
        let mut with = Node::new("with");
        with.images.push(NodeImage { names: vec![image], size_bytes: 500 * MB });
        let a = s.add_node(with);
        let b = s.add_node(Node::new("without"));
        let mut pod = Pod::new("default", "p");
        pod.containers.push(Container { image, ..Default::default() });
        pod.finish();
        let cx = PodCx { pod: &pod, snapshot: &s };
        // 500MB × 1/2 spread = 250MB → 100 × (250−23)/(1000−23) = 23.
        assert_eq!(ImageLocality.score(cx, &PluginState::default(), s.node(a)), 23);
        assert_eq!(ImageLocality.score(cx, &PluginState::default(), s.node(b)), 0);
    }
}
