//! File mappings on the hosted machine: `--file NAME=PATH` puts a file on the modelled disk,
//! a process opens it by name and maps it; stores to a shared mapping reach the file on the
//! disk (msync, munmap, exit), stores to a private one never do.

use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{assemble_file, read_files};
use vmlab_cpu::elf::Elf;
use vmlab_os::kernel::Finish;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// programs/os/filemap.s with `edit` applied to its source (old, new), assembled for the
/// hosted machine.
fn program(edit: Option<(&str, &str)>) -> Elf {
    let path = root().join("programs/os/filemap.s");
    let mut src = std::fs::read_to_string(&path).expect("filemap.s");
    if let Some((old, new)) = edit {
        assert!(src.contains(old), "{old}");
        src = src.replacen(old, new, 1);
    }
    let opts = vmlab_cpu::asm::AsmOptions {
        text_base: vmlab_os::image::HOSTED_TEXT_BASE,
        ..vmlab_cpu::asm::AsmOptions::default()
    };
    let shown = path.display().to_string();
    let obj = assemble_file(&src, &shown, &opts).unwrap_or_else(|e| panic!("{e}"));
    Elf::parse(&obj.to_elf(), &shown).expect("an ELF")
}

/// Runs the program with data.txt as "data"; returns the end and the file on the disk.
fn run(elf: Elf, sets: &[&str]) -> (End, Vec<u8>) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = apply_set_all("", "(test)", &sets).expect("config");
    let spec = format!("data={}", root().join("programs/os/data.txt").display());
    let files = read_files(&[spec]).expect("data.txt");
    let mut h = Hosted::with_files(cfg, &[("filemap.s".into(), elf)], files, false).expect("boots");
    let end = h.run().clone();
    let disk = h.file_contents("data").expect("the file is on the disk");
    (end, disk)
}

fn original() -> Vec<u8> {
    std::fs::read(root().join("programs/os/data.txt")).expect("data.txt")
}

#[test]
fn shared_stores_reach_the_file_private_ones_do_not() {
    let ok = End::Kernel(Finish::AllEnded { status: 0 });
    let mut want = original();
    want[..4].copy_from_slice(b"VMLA");
    // MAP_SHARED with msync: the file holds the store.
    let (end, disk) = run(program(None), &[]);
    assert_eq!(end, ok);
    assert_eq!(disk, want);
    // Without the msync, munmap writes the dirty page back.
    let (end, disk) = run(
        program(Some((
            "    li a7, SYS_msync\n    ecall\n",
            "    li a0, 0\n",
        ))),
        &[],
    );
    assert_eq!(end, ok);
    assert_eq!(disk, want);
    // MAP_PRIVATE: the store stays in the process (its page would go to swap).
    let (end, disk) = run(
        program(Some((
            "    li a3, MAP_SHARED\n",
            "    li a3, MAP_PRIVATE\n",
        ))),
        &[],
    );
    assert_eq!(end, ok);
    assert_eq!(disk, original());
    // The host file is never changed.
    assert!(original().starts_with(b"vmlab maps"));
}

#[test]
fn exit_writes_back_dirty_shared_pages() {
    // Skip the msync and the munmap: the exit unmaps and writes the page back.
    let elf = program(Some((
        "    mv a0, s0                   # msync(p, 1 page, MS_SYNC)\n",
        "    li a0, 0\n    li a7, SYS_exit\n    ecall\n    mv a0, s0\n",
    )));
    let (end, disk) = run(elf, &[]);
    assert_eq!(end, End::Kernel(Finish::AllEnded { status: 0 }));
    let mut want = original();
    want[..4].copy_from_slice(b"VMLA");
    assert_eq!(disk, want);
}

#[test]
fn a_missing_file_fails_the_process_not_the_run() {
    // No --file: openat answers -ENOENT and the program exits 1.
    let cfg = apply_set_all("", "(test)", &[]).expect("config");
    let mut h = Hosted::new(cfg, &[("filemap.s".into(), program(None))]).expect("boots");
    assert_eq!(h.run(), &End::Kernel(Finish::AllEnded { status: 1 }));
    // Bad --file options are usage errors that say what would be right.
    for (spec, says) in [
        ("data", "as NAME=PATH"),
        ("a/b=programs/os/data.txt", "plain file name"),
        ("data=/no/such/file", "no such file /no/such/file"),
    ] {
        let e = read_files(&[spec.to_string()]).unwrap_err();
        assert!(e.contains(says), "{spec}: {e}");
    }
    let twice = [
        "d=programs/os/data.txt".to_string(),
        "d=programs/os/data.txt".to_string(),
    ];
    assert!(read_files(&twice).unwrap_err().contains("twice"));
}
