//! Ordinary Linux programs (C with glibc, built by `riscv64-linux-gnu-gcc -static`) run
//! unchanged under the kernel: the corpus of `programs/linux/` (its `tests.toml` lists each
//! run with its arguments, environment, standard input, mounts, and the standard output and
//! exit status `qemu-riscv64` gave), under vm-paging and simple-paging, and under the
//! partition schemes where the program fits. The ELFs are committed; no cross compiler or
//! qemu is needed.

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{manifest, root, run, setup, sysroot, Test};
use std::path::{Path, PathBuf};
use vmlab::hosted::Hosted;
use vmlab::machine::apply_set_all;
use vmlab_cpu::elf::Elf;

fn check(t: &Test, sets: &[&str]) {
    let o = run(t, sets);
    let want = std::fs::read(root().join(&t.stdout)).expect("expected stdout");
    let what = format!("{} {sets:?}", t.name);
    let status = o.status(&what);
    assert_eq!(
        String::from_utf8_lossy(&o.out),
        String::from_utf8_lossy(&want),
        "{what}: stdout (reports {:?}, {:?}, {} instructions)",
        o.reports,
        o.unserved,
        o.insns
    );
    assert_eq!(status, t.status, "{what}: exit status ({:?})", o.reports);
}

/// The corpus's static programs of one process each (see [`shares_processes`]).
fn statics() -> impl Iterator<Item = Test> {
    manifest()
        .into_iter()
        .filter(|t| t.linkage == "static" && !shares_processes(t))
}

/// Whether the test needs processes that share: fork, exec, threads, shared memory,
/// pipes or signals. The corpus tests here skip those; `tests/processes.rs` runs them.
fn shares_processes(t: &Test) -> bool {
    const FEATURES: &[&str] = &["fork", "exec", "threads", "shm", "pipes", "signals"];
    t.needs.iter().any(|n| FEATURES.contains(&n.as_str()))
}

/// Programs of tens of millions of instructions: run once.
const LONG: &[&str] = &["sieve", "malloc_ds", "recursion"];

#[test]
fn every_static_program_under_vm_paging() {
    for t in statics() {
        check(&t, &["os.scheme=vm-paging"]);
    }
}

#[test]
fn every_static_program_under_simple_paging() {
    // (Simple paging loads every page at start, so it cannot map files: mmap of a file
    // is ENODEV there; and every page is resident from the start.)
    let paged = |n: &String| n == "file mmap" || n == "demand paging";
    for t in statics().filter(|t| !LONG.contains(&t.name.as_str()) && !t.needs.iter().any(paged)) {
        // Simple paging loads every page at start: a stack that grows is not in it, so
        // the process starts with the stack it will need.
        check(
            &t,
            &[
                "os.scheme=simple-paging",
                "os.stack_size=4194304",
                "os.stack_limit=8388608",
            ],
        );
    }
}

#[test]
fn programs_that_fit_run_under_dynamic_partitions() {
    // Base and bounds: one contiguous space, no mmap (malloc uses brk), no per-page
    // protection (the RELRO mprotect is recorded, not enforced).
    for name in [
        "hello",
        "exit42",
        "printf_int",
        "printf_float",
        "strings",
        "args_env",
    ] {
        let t = statics().find(|t| t.name == name).expect(name);
        check(
            &t,
            &["os.scheme=dynamic-partitions", "os.heap_reserve=4194304"],
        );
    }
}

#[test]
fn a_dynamically_linked_program_is_refused_with_its_interpreter_named() {
    for t in manifest()
        .into_iter()
        .filter(|t| t.linkage == "dynamic" && !shares_processes(t))
    {
        let elf = Elf::open(&root().join(&t.elf)).expect("parses");
        let cfg = apply_set_all("", "(test)", &[]).expect("config");
        let Err(e) = Hosted::new(cfg, &[(t.name.clone(), elf)]) else {
            panic!("{}: runs without a sysroot", t.name);
        };
        assert!(
            e.contains("/lib/ld-linux-riscv64-lp64d.so.1") && e.contains("--sysroot"),
            "{}: {e}",
            t.name
        );
    }
}

#[test]
fn dynamically_linked_programs_run_with_a_sysroot() {
    for t in manifest()
        .into_iter()
        .filter(|t| t.linkage == "dynamic" && !shares_processes(t))
    {
        if setup(&t).sysroot.is_none() {
            return;
        }
        check(&t, &["os.scheme=vm-paging"]);
        // The libraries' pages come through the page cache and count as file faults.
        let cfg = apply_set_all("", "(test)", &["os.stack_limit=8388608".into()]).expect("config");
        let elf = Elf::open(&root().join(&t.elf)).expect("elf");
        let mut h =
            Hosted::with_setup(cfg, &[(t.name.clone(), elf)], Vec::new(), false, &setup(&t))
                .expect("boots");
        assert_eq!(h.run().exit_code(), 0, "{:?}", h.process_reports());
        assert!(stat(&h, "os.proc.1.faults.by_area.file") > 20, "{}", t.name);
        assert!(stat(&h, "os.page_cache.misses") > 20, "{}", t.name);
        // Its malloc is in libc.so.6: os.malloc cannot take it over, and says why.
        let cfg = apply_set_all("", "(test)", &["os.malloc=best-fit".into()]).expect("config");
        let elf = Elf::open(&root().join(&t.elf)).expect("elf");
        let e = Hosted::with_setup(cfg, &[(t.name.clone(), elf)], Vec::new(), false, &setup(&t))
            .err()
            .expect("refused");
        assert!(
            e.contains("dynamically linked") && e.contains("-static"),
            "{e}"
        );
    }
}

#[test]
fn a_system_call_not_served_is_named_and_strict_mode_kills() {
    // uname is served; the corpus's programs make only served calls. A program that makes
    // an unserved one (rt_sigtimedwait, 137) gets -ENOSYS, and under --strict-syscalls
    // SIGSYS.
    let src = "
        .globl _start
    _start:
        li a7, 137
        ecall
        li a7, 93
        neg a0, a0        # exit code: ENOSYS = 38
        ecall
    ";
    let opts = vmlab_cpu::asm::AsmOptions {
        text_base: vmlab_os::image::HOSTED_TEXT_BASE,
        ..Default::default()
    };
    let obj = vmlab::run_cmd::assemble_file(src, "enosys.s", &opts).expect("assembles");
    let elf = Elf::parse(&obj.to_elf(), "enosys.s").expect("an ELF");
    let progs = [("enosys.s".to_string(), elf)];
    let cfg = apply_set_all("", "(test)", &[]).expect("config");
    let mut h = Hosted::new(cfg, &progs).expect("boots");
    assert_eq!(h.run().exit_code(), 38);
    let report = h.unserved_report().expect("a report");
    assert!(report.contains("rt_sigtimedwait (137) x1"), "{report}");
    let cfg = apply_set_all("", "(test)", &["os.strict_syscalls=true".into()]).expect("config");
    let mut h = Hosted::new(cfg, &progs).expect("boots");
    assert_eq!(h.run().exit_code(), 128 + 31);
    let r = h.process_reports().join("\n");
    assert!(r.contains("rt_sigtimedwait (137)"), "{r}");
}

#[test]
fn a_writable_mount_reaches_the_host_and_a_read_only_one_is_never_changed() {
    let dir = std::env::temp_dir().join(format!("vmlab-linux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("old.txt"), "old\n").expect("old.txt");
    let t = |mount: &str| Test {
        mounts: vec![format!("{}:/out{mount}", dir.display())],
        ..Test::bin("write_out", &["/out"])
    };
    // Read-only: the program fails at its first write (fopen: EROFS), the folder stays.
    let o = run(&t(""), &[]);
    assert_eq!(o.status("write_out"), 3, "{:?}", o.reports);
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&dir), ["old.txt"]);
    // Writable: the new file, the directory and the removal reach the host at the end.
    let o = run(&t(":rw"), &[]);
    assert_eq!(o.status("write_out :rw"), 0, "{:?}", o.reports);
    assert_eq!(o.stdout, "wrote 37890 bytes\n");
    assert_eq!(names(&dir), ["new.txt", "sub"]);
    let text = std::fs::read_to_string(dir.join("new.txt")).expect("new.txt");
    assert_eq!(text.len(), 37890);
    assert!(text.starts_with("line 0 of the file written in vmlab\n"));
    assert!(text.ends_with("line 999 of the file written in vmlab\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `programs/os/NAME.s` assembled for the hosted machine.
fn os_program(name: &str) -> (String, Elf) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("programs/os/{name}.s"));
    let src = std::fs::read_to_string(&path).expect("the program");
    let opts = vmlab_cpu::asm::AsmOptions {
        text_base: vmlab_os::image::HOSTED_TEXT_BASE,
        ..Default::default()
    };
    let shown = path.display().to_string();
    let obj = vmlab::run_cmd::assemble_file(&src, &shown, &opts).unwrap_or_else(|e| panic!("{e}"));
    (
        format!("{name}.s"),
        Elf::parse(&obj.to_elf(), &shown).expect("an ELF"),
    )
}

#[test]
fn file_mappings_are_right_when_the_page_cache_must_evict_mapped_pages() {
    // Two to four cache frames for a 64-page shared mapping: mapped pages are unmapped
    // from the process, written back and evicted, and fault back in; the bytes survive;
    // reads and writes larger than the cache go chunk by chunk, never short.
    for (name, frames) in [("mmap_stream", 4), ("mmap_file", 2)] {
        let t = statics().find(|t| t.name == name).expect(name);
        let set = format!("os.page_cache_frames={frames}");
        check(&t, &["os.scheme=vm-paging", &set]);
    }
    let h = hosted("mmap_stream", &["os.page_cache_frames=4"]);
    // Every page was dirtied twice and could stay in no frame between the rounds.
    assert!(stat(&h, "os.page_cache.evictions") >= 64 * 2);
    assert!(stat(&h, "os.page_cache.writebacks") >= 64 * 2);
    // Faults on the mapping count in the file area: at least one per page and round.
    assert!(stat(&h, "os.proc.1.faults.by_area.file") >= 64 * 2);
}

#[test]
fn the_page_cache_and_the_processes_share_memory() {
    // Plenty of memory: the cache grows to its limit from free frames.
    let h = hosted("mmap_stream", &[]);
    assert_eq!(stat(&h, "os.page_cache.peak_frames"), 64);
    assert_eq!(stat(&h, "os.page_cache.reclaimed"), 0);
    // 80 frames for everything: the cache grows into the free ones (35 are left once the
    // program has its own), then the process's faults take clean cache pages back before
    // they evict process pages; the bytes are right under every policy.
    for policy in ["fifo", "clock", "lru"] {
        let t = statics()
            .find(|t| t.name == "mmap_stream")
            .expect("mmap_stream");
        let p = format!("os.policy={policy}");
        check(&t, &["os.user_frames=80", &p]);
        let h = hosted("mmap_stream", &["os.user_frames=80", &p]);
        assert!(stat(&h, "os.page_cache.reclaimed") > 0, "{policy}");
        let peak = stat(&h, "os.page_cache.peak_frames");
        assert!(peak > 8 && peak < 64, "{policy}: {peak}");
        // In 40 frames the cache gets one frame (from a clean process page) and works in
        // it.
        check(&t, &["os.user_frames=40", &p]);
    }
    // A program that reads and writes files in 16 frames of memory.
    for name in ["mmap_file", "fileio_tmp"] {
        let t = statics().find(|t| t.name == name).expect(name);
        check(&t, &["os.user_frames=16"]);
    }
    // A partition scheme keeps the cache in a pool of its own (no sharing counters).
    let h = hosted(
        "fileio_tmp",
        &["os.scheme=dynamic-partitions", "os.heap_reserve=4194304"],
    );
    assert!(h
        .stat_list()
        .iter()
        .all(|(n, _)| n != "os.page_cache.reclaimed"));
}

#[test]
fn the_stack_high_water_mark_shows_deep_recursion() {
    // recursion.c goes 100000 calls deep, 32 bytes a frame: about 3.2 MB, grown a page per
    // fault below the stack's 16 KiB start. hello needs no more than the start.
    let deep = hosted("recursion", &[]);
    let bytes = stat(&deep, "os.proc.1.stack_bytes");
    assert!((3_200_000..3_400_000).contains(&bytes), "{bytes}");
    assert_eq!(bytes % 4096, 0);
    assert_eq!(
        stat(&deep, "os.stack_growths"),
        (bytes - 16384) / 4096,
        "one growth per page below the start"
    );
    assert_eq!(stat(&hosted("hello", &[]), "os.proc.1.stack_bytes"), 16384);
    // stackalloc.c: alloca and VLAs take 820 pages of stack in one frame, each page a
    // fault as memset touches it; the second round reuses them, and the heap is not used.
    let s = hosted("stackalloc", &[]);
    let bytes = stat(&s, "os.proc.1.stack_bytes");
    assert!((3_300_000..3_500_000).contains(&bytes), "{bytes}");
    let stack_faults = stat(&s, "os.proc.1.faults.by_area.stack");
    assert!((820..840).contains(&stack_faults), "{stack_faults}");
    assert!(stat(&s, "os.proc.1.faults.by_area.heap") <= 4);
}

/// A corpus program run to its end with `sets` (and the corpus's stack limit).
fn hosted(name: &str, sets: &[&str]) -> Hosted {
    let t = statics().find(|t| t.name == name).expect(name);
    let mut all = vec!["os.stack_limit=8388608".to_string()];
    all.extend(sets.iter().map(|s| s.to_string()));
    let cfg = apply_set_all("", "(test)", &all).expect("config");
    let elf = Elf::open(&root().join(&t.elf)).expect("elf");
    let mut h = Hosted::with_setup(cfg, &[(t.name.clone(), elf)], Vec::new(), false, &setup(&t))
        .expect("boots");
    assert_eq!(h.run().exit_code(), 0, "{name}: {:?}", h.process_reports());
    h
}

fn stat(h: &Hosted, name: &str) -> u64 {
    h.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or_else(|| panic!("no statistic {name}"), |(_, v)| v)
}

#[test]
fn misaligned_loads_and_stores_are_emulated() {
    let cfg = apply_set_all("", "(test)", &[]).expect("config");
    let mut h = Hosted::new(cfg, &[os_program("t-misaligned")]).expect("boots");
    assert_eq!(h.run().exit_code(), 0, "{:?}", h.process_reports());
    assert_eq!(
        String::from_utf8_lossy(&h.machine.take_output()),
        "misaligned ok\n"
    );
    // ld, lw, lhu, lh, sd, ld, sw, sd, fld, fsd, ld, sw, flw: the byte loads are aligned.
    assert_eq!(stat(&h, "os.misaligned_emulated"), 13);
}

#[test]
fn misaligned_loads_and_stores_in_hardware_need_no_kernel() {
    // The same program on a hart that does misaligned accesses itself: the same results,
    // nothing emulated, and fewer cycles than trapping into the kernel 13 times.
    let mut cycles = Vec::new();
    for mode in ["trap", "hardware"] {
        let set = format!("cpu.misaligned={mode}");
        let cfg = apply_set_all("", "(test)", &[set]).expect("config");
        let mut h = Hosted::new(cfg, &[os_program("t-misaligned")]).expect("boots");
        assert_eq!(h.run().exit_code(), 0, "{mode}: {:?}", h.process_reports());
        assert_eq!(
            String::from_utf8_lossy(&h.machine.take_output()),
            "misaligned ok\n"
        );
        let emulated = stat(&h, "os.misaligned_emulated");
        assert_eq!(emulated, if mode == "trap" { 13 } else { 0 }, "{mode}");
        cycles.push(h.machine.now());
    }
    assert!(cycles[1] < cycles[0], "{cycles:?}");
    // A misaligned atomic is still refused (SIGBUS) with the hardware doing the rest.
    let cfg = apply_set_all("", "(test)", &["cpu.misaligned=hardware".into()]).expect("config");
    let mut h = Hosted::new(cfg, &[os_program("t-misaligned-amo")]).expect("boots");
    h.run();
    let reports = h.process_reports().join("\n");
    assert!(reports.contains("misaligned"), "{reports}");
}

#[test]
fn two_processes_keep_their_own_floating_point_registers() {
    // Both compute with doubles in slices of 2000 cycles: each switch saves the dirty
    // registers of the one leaving and loads the other's. Mixed up, the numbers would be
    // wrong.
    let m = manifest();
    let get = |n: &str| m.iter().find(|t| t.name == n).expect(n);
    let (a, b) = (get("float_heavy"), get("libm"));
    let elf = |t: &Test| Elf::open(&root().join(&t.elf)).expect("elf");
    let progs = [(a.name.clone(), elf(a)), (b.name.clone(), elf(b))];
    let cfg = apply_set_all("", "(test)", &["os.time_slice=2000".into()]).expect("config");
    let mut h = Hosted::new(cfg, &progs).expect("boots");
    assert_eq!(h.run().exit_code(), 0, "{:?}", h.process_reports());
    let out = h.machine.take_output();
    let mut want = std::fs::read(root().join(&a.stdout)).expect("out");
    want.extend(std::fs::read(root().join(&b.stdout)).expect("out"));
    // Each prints all its output at exit (stdout is a pipe: fully buffered), float_heavy
    // first (it ends first).
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&want)
    );
    assert!(stat(&h, "os.fp.saves") > 10, "{}", stat(&h, "os.fp.saves"));
    assert!(stat(&h, "os.fp.restores") > 10);
}

#[test]
fn integer_programs_never_save_floating_point_registers() {
    // Lazy switching: processes that never touch the FP unit cost nothing at a switch.
    let cfg = apply_set_all("", "(test)", &["os.time_slice=2000".into()]).expect("config");
    let mut h = Hosted::new(cfg, &[os_program("long"), os_program("hello")]).expect("boots");
    h.run();
    assert_eq!(stat(&h, "os.fp.saves"), 0);
    assert_eq!(stat(&h, "os.fp.restores"), 0);
}

#[test]
fn a_program_for_an_extension_the_hart_lacks_is_killed_with_the_instruction_named() {
    let t = statics()
        .find(|t| t.name == "printf_float")
        .expect("printf_float");
    let elf = Elf::open(&root().join(&t.elf)).expect("elf");
    let cfg = apply_set_all("", "(test)", &["cpu.isa=rv64imac".into()]).expect("config");
    let mut h = Hosted::new(cfg, &[(t.name.clone(), elf)]).expect("boots");
    assert_eq!(h.run().exit_code(), 128 + 4);
    let r = h.process_reports().join("\n");
    assert!(
        r.contains("illegal instruction") && r.contains("extension"),
        "{r}"
    );
}

/// Runs the `vmlab` binary from the repository's root with `stdin` as its standard input.
fn vmlab_cli(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vmlab runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("vmlab ends")
}

#[test]
fn the_command_line_passes_arguments_environment_mounts_and_standard_input() {
    let expected = |n: &str| std::fs::read(root().join(format!("expected/{n}.out"))).expect(n);
    // Arguments after --, --env.
    let o = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/args_env",
            "--env",
            "A=1",
            "--env",
            "B=hello",
            "--",
            "one",
            "two",
            "three four",
        ],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.stdout, expected("args_env"));
    // --mount and an argument naming a file in it.
    let o = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/fileio_data",
            "--mount",
            "programs/linux/data:/data",
            "--",
            "/data/words.txt",
        ],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.stdout, expected("fileio_data"));
    // The guest's standard input is vmlab's.
    let input = std::fs::read(root().join("input/wc.txt")).expect("wc.txt");
    let o = vmlab_cli(&["run", "programs/linux/bin/stdin_wc"], &input);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.stdout, expected("stdin_wc"));
    // abort() ends with SIGABRT: 134, and the report says so.
    let o = vmlab_cli(&["run", "programs/linux/bin/abort_sig"], b"");
    assert_eq!(o.status.code(), Some(134));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("SIGABRT") && err.contains("aborted"), "{err}");
    // Bad input: a mount without a guest path, an --env without '='.
    let o = vmlab_cli(
        &["run", "programs/linux/bin/hello", "--mount", "programs"],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--mount programs"));
    let o = vmlab_cli(
        &["run", "programs/linux/bin/hello", "--env", "NOEQUALS"],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("NAME=VALUE"));
    // A missing host folder.
    let o = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/hello",
            "--mount",
            "no/such/dir:/x",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/dir"));
}

/// The kernel counts references to a process's few most recent pages in a batch when only
/// the working set follows them; exact LRU takes every reference one by one. The reference
/// string of a process does not depend on the policy, so each process's working-set peak
/// must be the same either way, for windows small and large.
#[test]
fn batched_references_give_the_working_set_of_one_by_one() {
    for name in ["sort", "malloc_ds"] {
        for window in ["3", "40", "10000"] {
            let peak = |policy: &str| {
                let ws = format!("os.working_set_window={window}");
                let pol = format!("os.policy={policy}");
                let h = hosted(name, &[&ws, &pol]);
                let pid = h.kernel.processes()[0].pid;
                stat(&h, &format!("os.proc.{pid}.working_set_peak"))
            };
            let (batched, exact) = (peak("fifo"), peak("lru"));
            assert!(batched > 0, "{name}, window {window}");
            assert_eq!(batched, exact, "{name}, window {window}");
        }
    }
}

/// A write-back that fails on every try is reported as Linux reports it: the page is clean
/// (so nothing retries it for ever), a kernel message names the file, and the next `msync`
/// of the file fails with EIO, once. Before, `msync` retried the write without end.
#[test]
fn a_failed_write_back_makes_msync_fail_once_and_never_hangs() {
    let mut h = hosted(
        "mmap_file",
        &[
            "memory.diskctl.disk.fault_rate=1",
            "memory.diskctl.disk.fault_kinds=write",
            "os.disk_retries=2",
        ],
    );
    let out = String::from_utf8_lossy(&h.machine.take_output()).into_owned();
    assert!(out.contains("msync: -1\n"), "{out}");
    // Everything else the program checks still holds: the pages stay in memory.
    assert!(out.contains("reopened: 0x5a 0x66 0xa5"), "{out}");
    assert!(stat(&h, "os.lost_writes") > 0);
    let m = h.kernel.messages();
    assert!(
        m.iter()
            .any(|m| m.contains("could not be written back") && m.contains("EIO")),
        "{m:?}"
    );
}

/// Every `os.malloc` allocator, in place of glibc's malloc, runs the corpus's allocation
/// programs with qemu's output: heapmix (malloc, free, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign, malloc_usable_size, a request that fails with ENOMEM) and
/// malloc_ds; double_free ends with SIGABRT (status 134) under each, as under glibc.
#[test]
fn every_allocator_runs_the_allocation_programs() {
    let kinds = [
        "first-fit",
        "next-fit",
        "best-fit",
        "worst-fit",
        "segregated",
        "buddy",
        "slab",
        "pool",
    ];
    for kind in kinds {
        let set = format!("os.malloc={kind}");
        let t = statics()
            .find(|t| t.name == "double_free")
            .expect("double_free");
        check(&t, &[&set]);
        // heapmix: the output checked here, the statistics from the same run.
        let mut h = hosted("heapmix", &[&set]);
        let want = std::fs::read(root().join("expected/heapmix.out")).expect("out");
        assert_eq!(
            String::from_utf8_lossy(&h.machine.take_output()),
            String::from_utf8_lossy(&want),
            "{kind}"
        );
        let pid = h.kernel.processes()[0].pid;
        let s = |n: &str| stat(&h, &format!("os.proc.{pid}.malloc.{n}"));
        assert!(s("allocs") > 900, "{kind}: {}", s("allocs"));
        assert_eq!(s("failed"), 1, "{kind}: the 1 TiB request");
        // The program frees all it allocates; what stays live is the C library's own
        // (stdout's buffer).
        assert!(s("live_bytes") < 8192, "{kind}: {}", s("live_bytes"));
        assert!(s("granted_bytes") >= s("live_bytes"), "{kind}");
        assert!(
            s("peak_live_bytes") > 0 && s("heap_bytes") >= s("peak_live_bytes"),
            "{kind}"
        );
        assert!(s("free_bytes") <= s("heap_bytes"), "{kind}");
        // The timeline follows the heap.
        let t = h.kernel.timeline();
        assert!(
            t.iter()
                .any(|x| x.heap.is_some_and(|h| h.live > 0 && h.size >= h.granted)),
            "{kind}: {t:?}"
        );
    }
    // With deferred coalescing too.
    for kind in ["first-fit", "best-fit"] {
        let t = statics().find(|t| t.name == "heapmix").expect("heapmix");
        check(
            &t,
            &[&format!("os.malloc={kind}"), "os.malloc_coalesce=deferred"],
        );
    }
    // malloc_ds (long) once.
    let t = statics()
        .find(|t| t.name == "malloc_ds")
        .expect("malloc_ds");
    check(&t, &["os.malloc=segregated"]);
}

/// A program with no malloc of its own cannot have it replaced: a clear error at start.
#[test]
fn os_malloc_needs_the_programs_malloc() {
    let t = statics()
        .find(|t| t.name == "hello-spie")
        .expect("hello-spie");
    let elf = Elf::open(&root().join(&t.elf)).expect("elf");
    let cfg = apply_set_all("", "(test)", &["os.malloc=best-fit".to_string()]).expect("config");
    let e = Hosted::with_setup(cfg, &[(t.name.clone(), elf)], Vec::new(), false, &setup(&t))
        .err()
        .expect("refused");
    assert!(
        e.contains("hello-spie") && e.contains("no malloc and free") && e.contains("libc"),
        "{e}"
    );
}

/// `--memcheck` on the command line: reports and the summary on standard error, the
/// program's output untouched on standard output, and `--memcheck-exit N` as the status
/// only when errors were found. A program the checker cannot watch (dynamically linked:
/// its malloc is not in its own symbol table) is refused with the reason.
#[test]
fn memcheck_on_the_command_line() {
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let clean = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/mc_clean",
            "--memcheck",
            "--memcheck-exit",
            "7",
        ],
        b"",
    );
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let expected = std::fs::read(root().join("expected/mc_clean.out")).expect("expected");
    assert_eq!(clean.stdout, expected);
    assert!(stderr(&clean).contains(
        "vmlab: memcheck: ERROR SUMMARY: 0 errors from 0 contexts; leaked 0 bytes in 0 blocks"
    ));
    let bad = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/mc_overflow",
            "--memcheck",
            "--memcheck-exit",
            "7",
        ],
        b"",
    );
    assert_eq!(bad.status.code(), Some(7), "{}", stderr(&bad));
    let text = stderr(&bad);
    assert!(
        text.contains("==1== Invalid write of size 1 (by strcpy)"),
        "{text}"
    );
    assert!(text.contains("main (mc_overflow.c:24)"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "vmlab: memcheck: ERROR SUMMARY: 2 errors from 2 contexts; leaked 0 bytes in 0 blocks"
        ),
        "{text}"
    );
    // Without --memcheck-exit the status is the program's.
    let plain = vmlab_cli(
        &["run", "programs/linux/bin/mc_overflow", "--memcheck"],
        b"",
    );
    assert_eq!(plain.status.code(), Some(0));
    // --memcheck-exit alone is refused (it needs --memcheck).
    let alone = vmlab_cli(
        &[
            "run",
            "programs/linux/bin/mc_overflow",
            "--memcheck-exit",
            "7",
        ],
        b"",
    );
    assert_ne!(alone.status.code(), Some(0));
    // A dynamically linked program cannot be watched (its malloc is in libc.so): refused
    // with the reason, here or, with a sysroot, by the checker.
    let dynamic = vmlab_cli(&["run", "programs/linux/bin/hello-dyn", "--memcheck"], b"");
    assert_ne!(dynamic.status.code(), Some(0));
    assert!(
        stderr(&dynamic).contains("dynamically linked"),
        "{}",
        stderr(&dynamic)
    );
    if let Some(dir) = sysroot("/usr/riscv64-linux-gnu") {
        let dir = dir.display().to_string();
        let dynamic = vmlab_cli(
            &[
                "run",
                "programs/linux/bin/hello-dyn",
                "--memcheck",
                "--sysroot",
                &dir,
            ],
            b"",
        );
        assert_ne!(dynamic.status.code(), Some(0));
        let text = stderr(&dynamic);
        assert!(
            text.contains(
                "--memcheck watches the program's malloc and free, but it is dynamically linked"
            ),
            "{text}"
        );
    }
}
