//! Pipes within one process (fork is not there yet): the `pipe_*` programs of
//! `programs/linux/` (C, static glibc; their standard output and exit status recorded under
//! `qemu-riscv64`) under every scheme that runs them, the kill a write with no reader earns
//! (SIGPIPE, status 141), a run that waits on a pipe no one can serve (it ends as stuck,
//! naming the pipe, rather than idling for ever), and `pipe2` into a bad array (no
//! descriptor left open).

#[path = "common/corpus.rs"]
mod corpus;

use corpus::root;
use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab_cpu::elf::Elf;
use vmlab_os::kernel::Finish;

/// A run of `programs/linux/bin/NAME` with `args` under `sets`: how it ended, its
/// standard output and the kernel's reports of its processes.
fn run(name: &str, args: &[&str], sets: &[&str]) -> (End, String, Vec<String>) {
    let elf = Elf::open(&root().join("bin").join(name)).expect("the ELF");
    let mut all: Vec<String> = vec![
        "run.max_insns=50000000".into(),
        "os.stack_limit=8388608".into(),
    ];
    all.extend(sets.iter().map(|s| s.to_string()));
    let cfg = apply_set_all("", "(test)", &all).expect("config");
    let setup = corpus::setup(&corpus::Test::bin(name, args));
    let mut h = Hosted::with_setup(cfg, &[(name.to_string(), elf)], Vec::new(), false, &setup)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let end = h.run().clone();
    let out = String::from_utf8_lossy(&h.machine.take_output()).into_owned();
    (end, out, h.process_reports())
}

/// The schemes a small static glibc program runs under, with what each needs (the
/// segmentation schemes cannot load it: its data is not above 0x4000_0000).
const SCHEMES: &[&[&str]] = &[
    &["os.scheme=vm-paging"],
    &[
        "os.scheme=simple-paging",
        "os.stack_size=4194304",
        "os.stack_limit=8388608",
    ],
    &["os.scheme=dynamic-partitions", "os.heap_reserve=4194304"],
];

#[test]
fn the_pipe_programs_give_what_qemu_gave_under_every_scheme() {
    for (name, status) in [
        ("pipe_basic", 0),
        ("pipe_nonblock", 0),
        ("pipe_dup", 0),
        ("pipe_sigpipe", 141),
    ] {
        let want = std::fs::read_to_string(root().join(format!("expected/{name}.out")))
            .expect("expected output");
        for sets in SCHEMES {
            let (end, out, reports) = run(name, &[], sets);
            assert_eq!(
                end,
                End::Kernel(Finish::AllEnded { status }),
                "{name} {sets:?}: {reports:?}"
            );
            assert_eq!(out, want, "{name} {sets:?}: {reports:?}");
        }
    }
}

#[test]
fn a_write_with_no_reader_is_killed_by_sigpipe() {
    let (_, out, reports) = run("pipe_sigpipe", &[], &[]);
    assert!(out.ends_with("now with the default action\n"), "{out}");
    let r = reports.join("\n");
    assert!(r.contains("SIGPIPE"), "{r}");
    assert!(r.contains("default action ends the process"), "{r}");
}

#[test]
fn a_process_waiting_on_a_pipe_no_one_can_serve_ends_the_run_as_stuck() {
    for (arg, words) in [
        // 100 KB into a pipe of 64 KB that only the writer could read.
        (
            "write",
            "waits to write to pipe 1 (65536 of its 65536 bytes full; 1 read and 1 write ends open)",
        ),
        // A read of an empty pipe whose write end the reader holds.
        (
            "read",
            "waits to read from pipe 1 (0 of its 65536 bytes full; 1 read and 1 write ends open)",
        ),
    ] {
        for sets in [&["os.scheme=vm-paging"][..], &["os.scheme=simple-paging", "os.stack_size=4194304"]] {
            let (end, out, _) = run("pipe_stuck", &[arg], sets);
            assert_eq!(out, "pipe made\n", "{arg}");
            let End::Kernel(Finish::Stuck(why)) = &end else {
                panic!("{arg} {sets:?}: not stuck: {end:?}");
            };
            assert!(why.starts_with("a deadlock: process 1 (pipe_stuck) "), "{why}");
            assert!(why.contains(words), "{arg}: {why}");
            assert!(why.ends_with("no process that could serve it can run"), "{why}");
        }
    }
}

/// `src` assembled for the hosted machine, run: how it ended, and how many pipes are
/// left.
fn run_asm(src: &str) -> (End, usize) {
    let opts = vmlab_cpu::asm::AsmOptions {
        text_base: vmlab_os::image::HOSTED_TEXT_BASE,
        ..Default::default()
    };
    let obj = vmlab::run_cmd::assemble_file(src, "pipe.s", &opts).expect("assembles");
    let elf = Elf::parse(&obj.to_elf(), "pipe.s").expect("an ELF");
    let cfg = apply_set_all("", "(test)", &[]).expect("config");
    let mut h = Hosted::new(cfg, &[("pipe.s".to_string(), elf)]).expect("boots");
    let end = h.run().clone();
    (end, h.kernel.open_pipes())
}

#[test]
fn pipe2_into_a_bad_array_fails_and_leaves_no_descriptor_open() {
    // pipe2(1 << 62, 0) is EFAULT; pipe2 with an unknown flag EINVAL; the next pipe2 gets
    // descriptors 3 and 4. Exit status: fds[0] * 10 + fds[1], or 1 or 2 on a wrong errno.
    let end = run_asm(
        "
        .globl _start
    _start:
        li a0, 1
        slli a0, a0, 62
        li a1, 0
        li a7, 59
        ecall
        li t0, -14          # EFAULT
        li t1, 1
        bne a0, t0, fail
        addi sp, sp, -16
        mv a0, sp
        li a1, 0100         # O_CREAT: not a pipe2 flag
        li a7, 59
        ecall
        li t0, -22          # EINVAL
        li t1, 2
        bne a0, t0, fail
        mv a0, sp
        li a1, 0
        li a7, 59
        ecall
        lw t0, 0(sp)
        lw t1, 4(sp)
        li t2, 10
        mul a0, t0, t2
        add a0, a0, t1
        li a7, 93
        ecall
    fail:
        mv a0, t1
        li a7, 93
        ecall
    ",
    );
    assert_eq!(end, (End::Kernel(Finish::AllEnded { status: 34 }), 0));
}

#[test]
fn a_process_that_ends_closes_its_pipe_ends() {
    // Two pipes, one end of the first closed, then it ends with the rest open: the
    // kernel closes them, and both pipes go.
    let end = run_asm(
        "
        .globl _start
    _start:
        addi sp, sp, -16
        mv a0, sp
        li a1, 0
        li a7, 59
        ecall
        addi a0, sp, 8
        li a1, 0
        li a7, 59
        ecall
        lw a0, 4(sp)
        li a7, 57           # close the first pipe's write end
        ecall
        li a0, 0
        li a7, 93
        ecall
    ",
    );
    assert_eq!(end, (End::Kernel(Finish::AllEnded { status: 0 }), 0));
}
