//! Replays the committed corpora of the never-panic fuzz targets: loading and running any of
//! these files must give a value or a clear error, never a panic.

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus folder exists") {
        let path = entry.expect("readable directory").path();
        check(&std::fs::read(&path).expect("readable file"));
        n += 1;
    }
    assert!(
        n >= 10,
        "expected a real corpus, found {n} files in {}",
        dir.display()
    );
}

#[test]
fn config_corpus_never_panics() {
    replay("config", vmlab::scenario::check_config_bytes);
}

#[test]
fn disk_requests_corpus_never_panics() {
    replay("disk_requests", vmlab::disk_cmd::check_requests_bytes);
}
