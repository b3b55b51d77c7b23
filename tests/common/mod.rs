//! Helpers for the end-to-end CLI tests: run the real binary on fixtures.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub fn fixture(path: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", path].iter().collect();
    p.to_string_lossy().into_owned()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `kubesched <args>`.
pub fn kubesched(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesched")).args(args).output().expect("the kubesched binary runs");
    finish(out)
}

/// Runs `kubesched <args>` with `stdin` piped in.
pub fn kubesched_stdin(args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubesched"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kubesched binary runs");
    child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes()).expect("stdin accepts the input");
    finish(child.wait_with_output().expect("kubesched finishes"))
}

/// The entry of pod `key` (`namespace/name`) in a `{"pods": [...]}` document.
pub fn entry<'a>(doc: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    doc["pods"]
        .as_array()
        .and_then(|pods| pods.iter().find(|p| p["pod"] == key))
        .unwrap_or_else(|| panic!("no entry for {key} in {doc:#}"))
}
