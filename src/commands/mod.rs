pub mod bench;
pub mod fargate;
pub mod input;
pub mod schedule;
pub mod simulate;
pub mod trace;
