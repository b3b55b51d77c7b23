pub mod bench;
pub mod schedule;
pub mod trace;
