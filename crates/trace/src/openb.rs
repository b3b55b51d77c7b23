//! The OpenB GPU trace (Alibaba `clusterdata`, `cluster-trace-gpu-v2023`; Weng et al., ATC '23).
//!
//! - Node lists: `sn, cpu_milli, memory_mib, gpu, model`.
//! - Pod lists: `name, cpu_milli, memory_mib, num_gpu, gpu_milli[, gpu_spec, qos, pod_phase,
//!   creation_time, deletion_time, scheduled_time]` — the `multigpu*` lists have only the
//!   first five columns. Columns are found by header name; extra columns are ignored.
//!
//! `gpu_milli` is the share of each GPU (1000 = whole); `num_gpu > 1` always uses whole GPUs.
//! `gpu_spec` is empty or a `|`-separated list of accepted GPU models.
//!
//! Conversion to the core's model ([`kubesched_core::gpu`]): a node gets allocatable
//! `nvidia.com/gpu: gpu`, `alibabacloud.com/gpu-milli: gpu×1000`, 110 pods, and the label
//! `nvidia.com/gpu.product: model`; a pod requests `cpu`, `memory`, and `nvidia.com/gpu: k` or
//! `alibabacloud.com/gpu-milli: m`, with `gpu_spec` as required node affinity on the model label.

use kubesched_core::Sym;
use kubesched_core::gpu::frag::TaskShape;
use kubesched_core::gpu::{GPU_MILLI_RESOURCE, GPU_MODEL_LABEL, GpuRequest, MAX_DEVICES, MILLI, gpu_model_label};
use kubesched_core::model::Node;
use kubesched_core::model::{Container, NodeAffinity, Pod};
use kubesched_core::selector::{NodeSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm};
use std::fmt;
use std::path::Path;

const MIB: i64 = 1 << 20;
/// Allocatable pods per node (the trace does not say; the kubelet default).
pub const PODS_PER_NODE: i64 = 110;

/// A bad input: the file, the 1-based line, and the column when one is to blame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub file: String,
    pub line: usize,
    /// 1-based column number and header name.
    pub column: Option<(usize, String)>,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some((n, name)) => write!(f, "{}:{}: column {} ({}): {}", self.file, self.line, n, name, self.message),
            None if self.line > 0 => write!(f, "{}:{}: {}", self.file, self.line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// One node of a node list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceNode {
    pub name: String,
    pub cpu_milli: i64,
    pub memory_mib: i64,
    pub gpus: u8,
    /// Empty for a node without GPUs.
    pub model: String,
}

/// One task of a pod list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracePod {
    pub name: String,
    pub cpu_milli: i64,
    pub memory_mib: i64,
    /// `None` for a CPU-only task.
    pub gpu: Option<GpuRequest>,
    /// Accepted GPU models (empty: any).
    pub gpu_spec: Vec<String>,
}

impl TracePod {
    /// Total milli-GPU requested.
    pub fn gpu_milli_total(&self) -> u64 {
        self.gpu.map_or(0, |g| g.total_milli() as u64)
    }

    /// The task's shape for the fragmentation metrics.
    pub fn shape(&self) -> TaskShape {
        TaskShape::new(self.cpu_milli, self.gpu, self.gpu_spec.iter().map(|m| Sym::new(m)))
    }

    /// The pod the scheduler sees, named `name` in namespace `default`.
    pub fn to_pod(&self, name: &str) -> Pod {
        let mut pod = Pod::new("default", name);
        let mut c =
            Container { name: Sym::new("main"), has_cpu_request: true, has_memory_request: true, ..Default::default() };
        c.requests.cpu = self.cpu_milli;
        c.requests.memory = self.memory_mib * MIB;
        match self.gpu {
            Some(g) if g.is_share() => c.requests.set(Sym::new(GPU_MILLI_RESOURCE), g.milli as i64),
            Some(g) => c.requests.set(Sym::NVIDIA_GPU, g.count as i64),
            None => {}
        }
        pod.containers.push(c);
        if self.gpu.is_some() && !self.gpu_spec.is_empty() {
            let values = self.gpu_spec.iter().map(|m| Sym::new(m)).collect();
            if let Ok(req) = NodeSelectorRequirement::new(gpu_model_label(), NodeSelectorOp::In, values) {
                let term = NodeSelectorTerm::new(vec![req], vec![]);
                pod.affinity.node_affinity =
                    Some(NodeAffinity { required: Some(NodeSelector { terms: vec![term] }), preferred: Vec::new() });
            }
        }
        pod.finish();
        pod
    }
}

impl TraceNode {
    pub fn to_node(&self) -> Node {
        let mut n = Node::new(&self.name);
        n.allocatable.cpu = self.cpu_milli;
        n.allocatable.memory = self.memory_mib * MIB;
        n.allocatable.pods = PODS_PER_NODE;
        if self.gpus > 0 {
            n.allocatable.set(Sym::NVIDIA_GPU, self.gpus as i64);
            n.allocatable.set(Sym::new(GPU_MILLI_RESOURCE), self.gpus as i64 * MILLI as i64);
        }
        if !self.model.is_empty() {
            n.labels.insert(Sym::new(GPU_MODEL_LABEL), Sym::new(&self.model));
        }
        n.capacity = n.allocatable.clone();
        n
    }
}

/// A parsed CSV: header names and rows of fields, with 1-based line numbers.
struct Csv<'a> {
    file: String,
    header: Vec<&'a str>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Csv<'a> {
    fn parse(file: &str, text: &'a str) -> Result<Csv<'a>, TraceError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
        let err = |line, message: String| TraceError { file: file.to_string(), line, column: None, message };
        let header = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((_, l)) => break split(l),
                None => return Err(err(0, "empty file: expected a header line".into())),
            }
        };
        let mut rows = Vec::new();
        for (n, l) in lines {
            if l.trim().is_empty() {
                continue;
            }
            let fields = split(l);
            if fields.len() < header.len() {
                return Err(err(n, format!("expected {} fields, found {}", header.len(), fields.len())));
            }
            rows.push((n, fields));
        }
        Ok(Csv { file: file.to_string(), header, rows })
    }

    fn column(&self, name: &str) -> Result<usize, TraceError> {
        self.optional_column(name).ok_or_else(|| TraceError {
            file: self.file.clone(),
            line: 1,
            column: None,
            message: format!("missing column {name:?} (header: {})", self.header.join(",")),
        })
    }

    fn optional_column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h.trim() == name)
    }

    fn error(&self, line: usize, col: usize, message: String) -> TraceError {
        TraceError { file: self.file.clone(), line, column: Some((col + 1, self.header[col].to_string())), message }
    }

    fn int(&self, line: usize, fields: &[&str], col: usize, min: i64, max: i64) -> Result<i64, TraceError> {
        let raw = fields[col].trim();
        let v: i64 =
            raw.parse().map_err(|_| self.error(line, col, format!("invalid value {raw:?}: expected an integer")))?;
        if v < min || v > max {
            return Err(self.error(line, col, format!("value {v} out of range [{min}, {max}]")));
        }
        Ok(v)
    }
}

fn split(line: &str) -> Vec<&str> {
    line.split(',').map(|f| f.trim().trim_matches('"')).collect()
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}

fn read(path: &Path) -> Result<String, TraceError> {
    std::fs::read_to_string(path).map_err(|e| TraceError {
        file: display_name(path),
        line: 0,
        column: None,
        message: format!("cannot read: {e}"),
    })
}

/// Parses a node list (`sn, cpu_milli, memory_mib, gpu, model`).
pub fn parse_nodes(file: &str, text: &str) -> Result<Vec<TraceNode>, TraceError> {
    let csv = Csv::parse(file, text)?;
    let (sn, cpu, mem, gpu, model) = (
        csv.column("sn")?,
        csv.column("cpu_milli")?,
        csv.column("memory_mib")?,
        csv.column("gpu")?,
        csv.column("model")?,
    );
    let mut out = Vec::with_capacity(csv.rows.len());
    let mut seen = std::collections::HashSet::new();
    for (line, f) in &csv.rows {
        let name = f[sn].to_string();
        if name.is_empty() {
            return Err(csv.error(*line, sn, "empty node name".into()));
        }
        if !seen.insert(name.clone()) {
            return Err(csv.error(*line, sn, format!("duplicate node {name:?}")));
        }
        let node = TraceNode {
            name,
            cpu_milli: csv.int(*line, f, cpu, 0, i64::MAX / 4)?,
            memory_mib: csv.int(*line, f, mem, 0, i64::MAX / (4 * MIB))?,
            gpus: csv.int(*line, f, gpu, 0, MAX_DEVICES as i64)? as u8,
            model: f[model].to_string(),
        };
        out.push(node);
    }
    Ok(out)
}

/// Parses a pod list in either layout.
pub fn parse_pods(file: &str, text: &str) -> Result<Vec<TracePod>, TraceError> {
    let csv = Csv::parse(file, text)?;
    let (name, cpu, mem, num, milli) = (
        csv.column("name")?,
        csv.column("cpu_milli")?,
        csv.column("memory_mib")?,
        csv.column("num_gpu")?,
        csv.column("gpu_milli")?,
    );
    let spec = csv.optional_column("gpu_spec");
    let mut out = Vec::with_capacity(csv.rows.len());
    for (line, f) in &csv.rows {
        let n = f[name].to_string();
        if n.is_empty() {
            return Err(csv.error(*line, name, "empty pod name".into()));
        }
        let cpu_milli = csv.int(*line, f, cpu, 0, i64::MAX / 4)?;
        let memory_mib = csv.int(*line, f, mem, 0, i64::MAX / (4 * MIB))?;
        let num_gpu = csv.int(*line, f, num, 0, MAX_DEVICES as i64)?;
        let gpu_milli = csv.int(*line, f, milli, 0, MILLI as i64)?;
        let gpu = match (num_gpu, gpu_milli) {
            // A pod with GPUs but no share uses none (as the artifact treats it).
            (0, _) | (_, 0) => None,
            (1, m) => Some(GpuRequest { count: 1, milli: m as u16 }),
            (k, 1000) => Some(GpuRequest::whole(k as u8)),
            (k, m) => {
                return Err(csv.error(
                    *line,
                    milli,
                    format!("{k} GPUs with a share of {m} each: a pod with several GPUs must use whole GPUs (1000)"),
                ));
            }
        };
        let gpu_spec = match spec {
            Some(c) if gpu.is_some() => {
                f[c].split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
            }
            _ => Vec::new(),
        };
        out.push(TracePod { name: n, cpu_milli, memory_mib, gpu, gpu_spec });
    }
    Ok(out)
}

/// Reads and parses a node list file.
pub fn load_nodes(path: &Path) -> Result<Vec<TraceNode>, TraceError> {
    parse_nodes(&display_name(path), &read(path)?)
}

/// Reads and parses a pod list file.
pub fn load_pods(path: &Path) -> Result<Vec<TracePod>, TraceError> {
    parse_pods(&display_name(path), &read(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_pod_layouts() {
        let full = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
                    p0,12000,16384,1,1000,,LS,Running,0,12537496,0\n\
                    p1,6000,12288,1,460,V100M16|V100M32,LS,Running,427061,12902960,427061\n\
                    p2,8000,30517,0,0,,BE,Running,1,2,1\n\
                    p3,32000,65536,8,1000,,LS,Running,3,4,3\n";
        let pods = parse_pods("full.csv", full).unwrap();
        assert_eq!(pods.len(), 4);
        assert_eq!(pods[0].gpu, Some(GpuRequest::whole(1)));
        assert_eq!(pods[1].gpu, Some(GpuRequest::share(460)));
        assert_eq!(pods[1].gpu_spec, ["V100M16", "V100M32"]);
        assert_eq!(pods[2].gpu, None);
        assert_eq!(pods[3].gpu_milli_total(), 8000);
        let short = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\r\nq0,6000,12288,1,460\r\n\r\nq1,4000,100,2,1000\r\n";
        let pods = parse_pods("short.csv", short).unwrap();
        assert_eq!(pods.len(), 2);
        assert_eq!(pods[1].gpu, Some(GpuRequest::whole(2)));
        assert!(pods[0].gpu_spec.is_empty());
    }

    #[test]
    fn bad_fields_name_file_line_and_column() {
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nq0,6000,12288,1,460\nq1,abc,1,0,0\n";
        assert_eq!(
            parse_pods("pods.csv", text).unwrap_err().to_string(),
            "pods.csv:3: column 2 (cpu_milli): invalid value \"abc\": expected an integer"
        );
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nq0,6000,12288,2,500\n";
        assert_eq!(
            parse_pods("pods.csv", text).unwrap_err().to_string(),
            "pods.csv:2: column 5 (gpu_milli): 2 GPUs with a share of 500 each: a pod with several GPUs must use whole GPUs (1000)"
        );
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nq0,6000,12288,1,1200\n";
        assert_eq!(
            parse_pods("pods.csv", text).unwrap_err().to_string(),
            "pods.csv:2: column 5 (gpu_milli): value 1200 out of range [0, 1000]"
        );
        let text = "name,cpu_milli,memory_mib,num_gpu\nq0,6000,12288,1\n";
        assert!(
            parse_pods("pods.csv", text)
                .unwrap_err()
                .to_string()
                .starts_with("pods.csv:1: missing column \"gpu_milli\"")
        );
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nq0,6000\n";
        assert_eq!(parse_pods("pods.csv", text).unwrap_err().to_string(), "pods.csv:2: expected 5 fields, found 2");
        assert_eq!(parse_pods("e.csv", "").unwrap_err().to_string(), "e.csv: empty file: expected a header line");
    }

    #[test]
    fn nodes_parse_and_convert() {
        let text = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,262144,0,\n";
        let nodes = parse_nodes("nodes.csv", text).unwrap();
        assert_eq!(
            nodes[0],
            TraceNode { name: "n0".into(), cpu_milli: 64000, memory_mib: 262144, gpus: 2, model: "P100".into() }
        );
        let n = nodes[0].to_node();
        assert_eq!(n.allocatable.scalar(Sym::NVIDIA_GPU), 2);
        assert_eq!(n.allocatable.scalar(Sym::new(GPU_MILLI_RESOURCE)), 2000);
        assert_eq!(n.labels.get(gpu_model_label()), Some(Sym::new("P100")));
        assert_eq!(nodes[1].to_node().allocatable.scalar(Sym::NVIDIA_GPU), 0);
        let dup = "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,0,\nn0,1,1,0,\n";
        assert_eq!(parse_nodes("n.csv", dup).unwrap_err().to_string(), "n.csv:3: column 1 (sn): duplicate node \"n0\"");
        let bad = "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,99,X\n";
        assert_eq!(
            parse_nodes("n.csv", bad).unwrap_err().to_string(),
            "n.csv:2: column 4 (gpu): value 99 out of range [0, 64]"
        );
    }

    #[test]
    fn pods_convert_with_gpu_spec_as_node_affinity() {
        let p = TracePod {
            name: "p".into(),
            cpu_milli: 6000,
            memory_mib: 1024,
            gpu: Some(GpuRequest::share(460)),
            gpu_spec: vec!["T4".into()],
        };
        let pod = p.to_pod("p");
        assert_eq!(pod.requests().cpu, 6000);
        assert_eq!(pod.requests().memory, 1024 * MIB);
        assert_eq!(GpuRequest::of(&pod), Ok(Some(GpuRequest::share(460))));
        assert_eq!(kubesched_core::gpu::model_constraint(&pod).unwrap().as_slice(), [Sym::new("T4")]);
        assert_eq!(TaskShape::of_pod(&pod), Some(p.shape()));
    }
}
