//! The memory system (caches, DRAM, bus) against a plain byte map over arbitrary setups and
//! access sequences (see `vmlab_devices::oracle` and `docs/fuzzing.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab_devices::oracle::check_bytes(data);
});
