//! vmlab: a cycle-level RISC-V machine for studying memory management.
//!
//! This crate is the binary's thin library: the command line ([`cli`]), scenario files for
//! `vmlab translate` ([`scenario`], with numbers parsed by [`num`]), and the reports it
//! prints ([`report`]), and requests files for `vmlab disk` with their reports
//! ([`disk_cmd`]), and the free-list exercise `vmlab malloc` ([`malloc_cmd`]), and the page-replacement exercise `vmlab policy` ([`policy_cmd`]), and the problem generators of `vmlab quiz` ([`quiz`]). The translation unit itself is the `vmlab-mmu` crate; the disk model is in
//! `vmlab-devices`.
#![warn(missing_docs)]

pub mod bench_cmd;
pub mod cli;
pub mod commit_log;
pub mod disk_cmd;
pub mod expect;
pub mod hosted;
pub mod machine;
pub mod malloc_cmd;
pub mod num;
pub mod pictures;
pub mod policy_cmd;
pub mod quiz;
pub mod report;
pub mod report_cmd;
pub mod run_cmd;
pub mod run_report;
pub mod scenario;
pub mod sysroot;
pub mod trace;
