//! docs/config.md lists every machine key: each leaf of the default configuration (as
//! `vmlab config` prints it) must appear there as `` `dotted.key` `` (the disk's own keys
//! are documented in docs/disk.md, and a row may stand for a whole table with `.*`).

fn leaves(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn every_key_is_documented() {
    let cfg = vmlab::machine::MachineConfig::default();
    let value = toml::Value::try_from(&cfg).expect("the configuration serialises");
    let mut keys = Vec::new();
    leaves("", &value, &mut keys);
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md"))
        .expect("docs/config.md");
    let mut missing = Vec::new();
    for k in &keys {
        let documented = doc.contains(&format!("`{k}`"))
            || k.rsplit_once('.').is_some_and(|(table, _)| {
                doc.contains(&format!("`{table}.*`"))
                    || table.starts_with("memory.diskctl.disk")
                    || table.starts_with("mmu.dtlb")
            })
            || k == "formats";
        if !documented {
            missing.push(k.clone());
        }
    }
    assert!(missing.is_empty(), "not in docs/config.md: {missing:?}");
    assert!(keys.len() > 60, "only {} keys found", keys.len());
}

#[test]
fn example_machine_files_load() {
    for f in ["small-tlb", "teaching"] {
        let path = format!("{}/programs/machines/{f}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the example exists");
        let cfg = vmlab::machine::MachineConfig::parse(&text, &path).expect("it parses");
        vmlab::machine::Machine::new(cfg).expect("and builds");
    }
}
