//! The translation unit against the reference translator over arbitrary configurations,
//! memory images and operation sequences (see `vmlab_mmu::oracle` and `docs/fuzzing.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab_mmu::oracle::check_bytes(data);
});
