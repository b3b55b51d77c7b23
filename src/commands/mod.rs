pub mod bench;
pub mod input;
pub mod schedule;
pub mod trace;
