//! Regression tests for defects found by reading the kernel (issue 9), one test each. Each
//! failed before its fix.

use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::assemble_file;
use vmlab_cpu::asm::AsmOptions;
use vmlab_cpu::elf::Elf;
use vmlab_os::kernel::Finish;
use vmlab_os::process::State;
use vmlab_os::services::Event;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `programs/os/NAME.s` assembled for the hosted machine's paging layout.
fn os_program(name: &str) -> (String, Elf) {
    os_program_edited(name, "", "")
}

/// [`os_program`] with the first `old` in its source replaced by `new`.
fn os_program_edited(name: &str, old: &str, new: &str) -> (String, Elf) {
    let path = root().join(format!("programs/os/{name}.s"));
    let mut src = std::fs::read_to_string(&path).expect("the program");
    assert!(src.contains(old), "{name}.s has no {old:?}");
    src = src.replacen(old, new, 1);
    let opts = AsmOptions {
        text_base: vmlab_os::image::HOSTED_TEXT_BASE,
        ..AsmOptions::default()
    };
    let shown = path.display().to_string();
    let obj = assemble_file(&src, &shown, &opts).unwrap_or_else(|e| panic!("{e}"));
    let elf = Elf::parse(&obj.to_elf(), &shown).expect("an ELF");
    (format!("{name}.s"), elf)
}

fn boot(sets: &[&str], programs: &[(String, Elf)], files: Vec<(String, Vec<u8>)>) -> Hosted {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.insert(0, "run.max_cycles=20000000000".into());
    let cfg = apply_set_all("", "(test)", &sets).expect("config");
    Hosted::with_files(cfg, programs, files, false).expect("boots")
}

fn stat(h: &Hosted, name: &str) -> u64 {
    h.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no statistic {name}"))
}

fn states(h: &Hosted) -> Vec<State> {
    h.kernel
        .processes()
        .iter()
        .map(|p| p.state.clone())
        .collect()
}

/// A file of `pages` pages, page i filled with the letter 'A' + i.
fn lettered(pages: usize) -> Vec<u8> {
    (0..pages)
        .flat_map(|i| std::iter::repeat_n(b'A' + i as u8, 4096))
        .collect()
}

/// Defect 1: `msync` cleaned the page and started its write, but the disk controller reads
/// the frame only when the write completes; the page could be evicted as clean meanwhile
/// and its frame given to another process, whose bytes then reached the file. Shared file
/// pages are the page cache's frames now, and a page under write-back is out of the
/// cache's reach until the write ends. Here filemap.s stores "VMLA" into a shared file
/// page and msyncs it (the write takes milliseconds on the default disk) while touch.s
/// sweeps 64 pages over 20 frames (FIFO), evicting and storing its own numbers into the
/// frames it gets.
#[test]
fn a_page_under_writeback_keeps_its_frame() {
    // The sweep starts once filemap.s has started its msync write (at about 25.5 M cycles on
    // the default disk); the trace below checks that it did.
    let (name, sweep) = os_program_edited(
        "t-readsweep",
        ".equ START_CYCLE, 0",
        ".equ START_CYCLE, 26000000",
    );
    let programs = [os_program("filemap"), (name, sweep)];
    let data = std::fs::read(root().join("programs/os/data.txt")).expect("data.txt");
    let mut sets: Vec<String> = [
        "run.max_cycles=20000000000",
        "os.user_frames=20",
        "os.policy=lru",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    sets.sort();
    let cfg = apply_set_all("", "(test)", &sets).expect("config");
    let mut h = Hosted::with_files(cfg, &programs, vec![("data".into(), data.clone())], true)
        .expect("boots");
    let end = h.run().clone();
    assert_eq!(
        end,
        End::Kernel(Finish::AllEnded { status: 0 }),
        "{:?}",
        states(&h)
    );
    // The file page was evicted while its msync write was under way (else this tests
    // nothing).
    let trace = h.take_trace();
    let write = trace
        .iter()
        .find_map(|r| match r.event {
            Event::Disk {
                id,
                op: "write",
                pid: 1,
                ..
            } => Some((id, r.cycle)),
            _ => None,
        })
        .expect("the msync write");
    let done = trace
        .iter()
        .find_map(|r| match r.event {
            Event::DiskDone { id, .. } if id == write.0 => Some(r.cycle),
            _ => None,
        })
        .expect("the write completes");
    // The sweep took memory while the write was under way (else this tests nothing).
    assert!(
        trace
            .iter()
            .any(|r| matches!(r.event, Event::Evict { pid: 2, .. })
                && (write.1..done).contains(&r.cycle)),
        "nothing was evicted during the write ({write:?} to {done})"
    );
    let mut want = data;
    want[..4].copy_from_slice(b"VMLA");
    assert_eq!(h.file_on_disk("data").expect("on the disk"), want);
}

/// Defect 2: the pieces of a split file mapping kept the mapping's file offset, so a piece
/// that starts one page into the mapping read and wrote the file's first page.
#[test]
fn split_file_mappings_keep_their_file_pages() {
    for sets in [&[][..], &["os.user_frames=8"][..]] {
        let mut h = boot(
            sets,
            &[os_program("t-filesplit")],
            vec![("pages".into(), lettered(4))],
        );
        let end = h.run().clone();
        assert_eq!(
            end,
            End::Kernel(Finish::AllEnded { status: 0 }),
            "{sets:?}: {:?}",
            states(&h)
        );
        let mut want = lettered(4);
        want[4096] = b'b';
        want[3 * 4096] = b'd';
        assert_eq!(
            h.file_contents("pages").expect("on the disk"),
            want,
            "{sets:?}"
        );
    }
}

/// Text (r-x) and data (rw-) linked into one page: `.data` at 0x1800 in text's page 0x1000.
fn shared_page_program(data_base: u64) -> (String, Elf) {
    let src = "    .text\n    .globl _start\n_start:\n    la t0, counter\n    li t1, 100\n1:  ld t2, 0(t0)\n    addi t2, t2, 1\n    sd t2, 0(t0)\n    addi t1, t1, -1\n    bnez t1, 1b\n    ld a0, 0(t0)\n    addi a0, a0, -100\n    li a7, 93\n    ecall\n    .data\ncounter:\n    .dword 0\n";
    let opts = AsmOptions {
        text_base: 0x1000,
        data_base: Some(data_base),
        ..AsmOptions::default()
    };
    let obj = assemble_file(src, "shared.s", &opts).expect("assembles");
    let elf = Elf::parse(&obj.to_elf(), "shared.s").expect("an ELF");
    assert_eq!(elf.symbol("counter"), Some(data_base));
    ("shared.s".into(), elf)
}

/// Defect 4: simple paging gave a page that two areas share a frame for each area (the
/// first leaked, and the process's pages were counted twice).
#[test]
fn simple_paging_gives_a_shared_page_one_frame() {
    let run = |data_base: u64| {
        let mut h = boot(
            &["os.scheme=simple-paging"],
            &[shared_page_program(data_base)],
            Vec::new(),
        );
        let end = h.run().clone();
        assert_eq!(
            end,
            End::Kernel(Finish::AllEnded { status: 0 }),
            "{:?}",
            states(&h)
        );
        h
    };
    let shared = run(0x1800);
    let apart = run(0x2000);
    // One page fewer when text and data share one; every frame is free again at the end.
    assert_eq!(
        stat(&shared, "os.paging.peak_frames") + 1,
        stat(&apart, "os.paging.peak_frames")
    );
    for h in [&shared, &apart] {
        assert_eq!(
            stat(h, "os.paging.frames_free"),
            stat(h, "os.paging.frames")
        );
    }
    // Internal fragmentation counts the bytes of the process's pages that no area holds:
    // apart, text's page and data's page each waste what their area leaves; shared, the one
    // page wastes what text and data together leave, a whole page less.
    let frag = |h: &Hosted| stat(h, "os.paging.internal_fragmentation_peak");
    assert_eq!(frag(&apart) - frag(&shared), 4096);
}

/// Defect 4's relative in demand paging (issue 10 names it): a data segment that starts in
/// the middle of a page, as GCC lays out .sdata, .sbss and .bss by default, faulted for ever
/// on its first page: when the page-in completed, the kernel looked for an area at the
/// page's first byte, found none, took the page for unmapped, and dropped it.
#[test]
fn a_data_segment_starting_mid_page_pages_in() {
    let path = root().join("programs/os/c/sbss.elf");
    let bytes = std::fs::read(&path).expect("sbss.elf");
    let elf = Elf::parse(&bytes, "sbss.elf").expect("an ELF");
    let data = elf
        .segments
        .iter()
        .find(|s| s.flags.write)
        .expect("a data segment");
    assert!(data.vaddr % 4096 != 0 && (data.data.len() as u64) < data.mem_size);
    for sets in [
        &["os.scheme=vm-paging"][..],
        &["os.scheme=vm-paging", "os.user_frames=6"][..],
        &["os.scheme=simple-paging"][..],
    ] {
        let mut h = boot(sets, &[("sbss.elf".into(), elf.clone())], Vec::new());
        let end = h.run().clone();
        assert_eq!(
            end,
            End::Kernel(Finish::AllEnded { status: 0 }),
            "{sets:?}: {:?}",
            states(&h)
        );
    }
}

/// Defect 3: the disk driver numbered its requests itself while the controller numbers only
/// the ones it accepts, so after one refused request every completion went to the wrong
/// waiter (and the refused one's waiter blocked for ever). The driver now takes each id
/// from the controller and reports a refused request as failed.
#[test]
fn disk_request_ids_come_from_the_controller() {
    use vmlab::machine::Machine;
    use vmlab_os::hw::Hw;
    use vmlab_os::services::{DiskDriver, DiskError, DiskOp, KernelStats, Request, Services};
    let cfg = apply_set_all("", "(test)", &[]).expect("config");
    let os = cfg.os.clone();
    let mut m = Machine::new(cfg).expect("a machine");
    let mut sv = Services {
        cfg: os,
        stats: KernelStats::default(),
        trace: None,
        messages: Vec::new(),
    };
    let mut disk: DiskDriver<&str> = DiskDriver::new(&mut m, 3);
    let (ram, _) = m.ram();
    let blocks = disk.blocks;
    let req = |block: u64, count: u64| Request {
        op: DiskOp::Read,
        block,
        count,
        pa: ram + 0x10000,
        pid: 1,
    };
    // Beyond the last block: refused at once, with the controller's code (2: rejected).
    let refused = disk.start(&mut sv, &mut m, req(blocks, 1), "past the end");
    assert_eq!(refused, Err(DiskError::Rejected(2)));
    // The next two get the controller's ids 0 and 1 and finish under their own tags.
    assert_eq!(disk.start(&mut sv, &mut m, req(0, 1), "first"), Ok(0));
    assert_eq!(disk.start(&mut sv, &mut m, req(7, 1), "second"), Ok(1));
    // A refused request reported through poll (start_or_report) is not waited for.
    disk.start_or_report(&mut sv, &mut m, req(0, 0), "no blocks");
    let mut seen = Vec::new();
    while disk.outstanding() > 0 {
        for d in disk.poll(&mut sv, &mut m) {
            seen.push((d.id, d.tag, d.result));
        }
        if disk.outstanding() > 0 {
            m.idle().expect("the disk has work scheduled");
        }
    }
    assert_eq!(
        seen,
        vec![
            (None, "no blocks", Err(DiskError::Rejected(2))),
            (Some(0), "first", Ok(())),
            (Some(1), "second", Ok(())),
        ]
    );
    assert_eq!(sv.stats.disk_failures, 2);
    assert_eq!(sv.stats.disk_reads, 2);
}

/// Issue 12: eight copies of hello on 32 frames. Their page tables (three frames each)
/// would leave too few frames for their pages, and they evicted each other's pages until
/// the livelock guard killed one; now a process whose page table would leave fewer than
/// two frames of pages per process waits for a frame (another process's exit), and every
/// process exits 0.
#[test]
fn page_tables_wait_for_frames_instead_of_killing() {
    let programs: Vec<_> = (0..8).map(|_| os_program("hello")).collect();
    let mut h = boot(&["os.user_frames=32"], &programs, Vec::new());
    let end = h.run().clone();
    assert_eq!(
        end,
        End::Kernel(Finish::AllEnded { status: 0 }),
        "{:?}",
        states(&h)
    );
    assert!(states(&h).iter().all(|s| *s == State::Exited(0)));
    assert!(stat(&h, "os.paging.waits.page_table") > 0, "nothing waited");
    assert_eq!(stat(&h, "os.processes.killed"), 0);
}

/// Issue 12: when no process could ever free a frame for a page table, the process is
/// killed with a report that says so, and the run ends (it never hangs).
#[test]
fn a_page_table_that_can_never_fit_is_a_clear_kill() {
    let programs: Vec<_> = (0..2).map(|_| os_program("hello")).collect();
    let mut h = boot(&["os.user_frames=2"], &programs, Vec::new());
    let end = h.run().clone();
    assert!(
        matches!(end, End::Kernel(Finish::AllEnded { .. })),
        "{end:?}"
    );
    for s in states(&h) {
        let State::Killed(k) = s else { panic!("{s:?}") };
        assert_eq!(k.cause, "out-of-memory");
        assert!(
            k.detail.contains("needs one more frame for a page table")
                && k.detail.contains("of the 2 user frames")
                && k.detail.contains("no other process holds frames"),
            "{}",
            k.detail
        );
    }
}
