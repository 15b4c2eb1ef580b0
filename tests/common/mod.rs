//! Helpers shared by the root crate's integration tests.

use std::path::Path;

/// The stems of the `.toml` examples in `programs/<folder>`, sorted, so a test can check that
/// every shipped example has a snapshot test.
pub fn example_stems(folder: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(folder);
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "toml").then_some(stem)
        })
        .collect();
    found.sort();
    found
}
