//! Any bytes, read as assembly source, assemble or give errors: never a panic or a hang; a
//! program that assembles gives an ELF the loader accepts, with only legal instructions
//! (see `vmlab_cpu::asm::fuzz_check` and `docs/asm.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab_cpu::asm::fuzz_check(data);
});
