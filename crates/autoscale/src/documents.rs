//! Reading the autoscaling documents of an input: `NodePool`s, `EC2NodeClass`es and Auto Mode
//! `NodeClass`es, from the raw `serde_json::Value` documents the loader hands over for kinds it
//! does not know, each with a source label for messages.

use crate::error::AutoscaleError;
use crate::nodeclass::{NodeClass, is_node_class_document, node_class_from_value};
use crate::nodepool::{NodePool, is_node_pool_document, node_pool_from_value};
use serde_json::Value;

/// The autoscaling objects of an input.
#[derive(Clone, Debug, Default)]
pub struct Documents {
    pub node_pools: Vec<NodePool>,
    pub node_classes: Vec<NodeClass>,
    pub warnings: Vec<String>,
}

/// True for the kinds [`read_documents`] takes (`karpenter.sh` NodePool, `karpenter.k8s.aws`
/// EC2NodeClass, `eks.amazonaws.com` NodeClass).
pub fn is_autoscaling_document(doc: &Value) -> bool {
    is_node_pool_document(doc) || is_node_class_document(doc)
}

/// Reads every autoscaling document of `docs` (others are skipped). All errors are returned,
/// each naming its source and field.
pub fn read_documents<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Result<Documents, Vec<AutoscaleError>> {
    let mut out = Documents::default();
    let mut errors = Vec::new();
    for (source, doc) in docs {
        if is_node_pool_document(doc) {
            match node_pool_from_value(source, doc) {
                Ok((p, w)) => {
                    out.node_pools.push(p);
                    out.warnings.extend(w);
                }
                Err(e) => errors.extend(e),
            }
        } else if is_node_class_document(doc) {
            match node_class_from_value(source, doc) {
                Ok((c, w)) => {
                    out.node_classes.push(c);
                    out.warnings.extend(w);
                }
                Err(e) => errors.extend(e),
            }
        }
    }
    errors.extend(crate::nodepool::check_unique(&out.node_pools));
    errors.extend(crate::nodeclass::check_unique(&out.node_classes));
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_pools_and_classes_and_collects_errors() {
        let pool = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
            "spec": {"template": {"spec": {"nodeClassRef": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"},
                                           "requirements": [], "expireAfter": "336h"}}}});
        let class = json!({"apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass", "metadata": {"name": "default"}, "spec": {}});
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        let docs = [("a.yaml#1", &pool), ("a.yaml#2", &class), ("a.yaml#3", &pod)];
        let d = read_documents(docs).unwrap();
        assert_eq!((d.node_pools.len(), d.node_classes.len()), (1, 1));
        assert!(is_autoscaling_document(&pool) && !is_autoscaling_document(&pod));
        let dup = [("a.yaml#1", &pool), ("b.yaml#1", &pool)];
        let errs = read_documents(dup).unwrap_err();
        assert_eq!(errs[0].to_string(), "b.yaml#1: metadata.name: NodePool \"default\" is defined twice");
    }
}
