//! Replays the committed corpus of the `config` fuzz target: parsing and building any of these
//! scenario files must never panic (errors are fine).

#[test]
fn config_corpus_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/config");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/config exists") {
        let path = entry.expect("readable directory").path();
        vmlab::scenario::check_config_bytes(&std::fs::read(&path).expect("readable file"));
        n += 1;
    }
    assert!(
        n >= 10,
        "expected a real corpus, found {n} files in {}",
        dir.display()
    );
}
