//! Any instruction words in any starting state: the machine never panics, the run stops,
//! and `Mmu::probe` agrees with `Mmu::translate` on every access it makes (see
//! `vmlab::machine::fuzz` and `docs/fuzzing.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab::machine::fuzz::check_cpu_bytes(data);
});
