//! kubesched-trace: replaying GPU cluster traces through the scheduling core.
//!
//! - [`openb`]: the Alibaba OpenB trace (`cluster-trace-gpu-v2023`, the FGD paper's data): CSV
//!   parsing of the node and pod lists (both pod-list layouts), and their conversion to the
//!   core's nodes and pods following [`kubesched_core::gpu`]'s conventions;
//! - [`replay`]: the paper's replay protocol (seeded shuffle, sampling to a target share of the
//!   cluster's GPU capacity, no departures) run through `kubesched_core::schedule::Scheduler`
//!   with a profile per policy, recording allocation and fragmentation at given load levels;
//! - [`report`]: the JSON contract, the table, and an SVG chart of unallocated GPUs vs arrived
//!   demand.
//!
//! Besides the paper's policies, `fgdstrand` replays our FGDStrand score
//! (`kubesched_core::plugins::gpu::fgd_strand`). `docs/fgd-strand.md` in this crate has its
//! results on the OpenB pod lists, the ablations and what did not work. `examples/study.rs`
//! sweeps plugin args over seeds and shows where the unallocated GPUs are.

pub mod openb;
pub mod replay;
pub mod report;
