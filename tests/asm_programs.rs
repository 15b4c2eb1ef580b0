//! vmlab's assembler against GNU as + ld on every example and test program: assembling each
//! `.s` file under programs/asm and programs/tests must give the same loadable segments
//! (addresses, sizes, bytes), the same entry point and the same tohost/fromhost as the
//! committed ELF that GNU built from it (build.sh in each folder).

use std::path::Path;
use vmlab_cpu::asm::{assemble, AsmOptions};
use vmlab_cpu::elf::Elf;

fn check_dir(dir: &str, at_least: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .expect("the folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    entries.sort();
    for src in entries {
        let gnu = src.with_extension("elf");
        if !gnu.exists() {
            continue;
        }
        let name = src.display().to_string();
        let text = std::fs::read_to_string(&src).expect("source");
        let obj = assemble(&text, &name, &AsmOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let ours = Elf::parse(&obj.to_elf(), &name).expect("our ELF loads");
        let theirs = Elf::open(&gnu).expect("GNU's ELF loads");
        assert_eq!(ours.entry, theirs.entry, "{name}: entry");
        assert_eq!(ours.tohost, theirs.tohost, "{name}: tohost");
        assert_eq!(ours.fromhost, theirs.fromhost, "{name}: fromhost");
        let seg = |e: &Elf| -> Vec<(u64, u64, Vec<u8>)> {
            e.segments
                .iter()
                .map(|s| (s.paddr, s.mem_size, s.data.clone()))
                .collect()
        };
        assert_eq!(seg(&ours), seg(&theirs), "{name}: segments");
        n += 1;
    }
    assert!(n >= at_least, "{dir}: only {n} programs compared");
}

#[test]
fn example_programs_assemble_as_gnu_does() {
    check_dir("programs/asm", 6);
}

#[test]
fn test_programs_assemble_as_gnu_does() {
    check_dir("programs/tests", 19);
}
