//! Any bytes, read as a scenario TOML file, give a value or a clear error: never a panic
//! (see `vmlab::scenario::check_config_bytes` and `docs/fuzzing.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab::scenario::check_config_bytes(data);
});
