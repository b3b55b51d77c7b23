//! `kubesched schedule`: place pending pods as kube-scheduler would.

use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("not wired yet")
}
