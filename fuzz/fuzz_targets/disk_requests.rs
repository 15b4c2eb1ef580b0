//! Any bytes, read as a `vmlab disk` request file, give a report or a clear error: never a
//! panic or a hang (see `vmlab::disk_cmd::check_requests_bytes` and `docs/fuzzing.md`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vmlab::disk_cmd::check_requests_bytes(data);
});
