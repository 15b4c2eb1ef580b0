//! Dynamically linked and position-independent Linux programs: `vmlab run PROG --sysroot
//! DIR` loads the interpreter PROG names from DIR (which the guest sees at `/`), as Linux's
//! `load_elf_binary` does, and every way that can go wrong is a clear error. No cross
//! compiler is needed: the programs are the committed ones of `programs/linux/bin/`, and
//! the sysroots are temporary folders made here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const DYN: &str = "programs/linux/bin/hello-dyn";
const SPIE: &str = "programs/linux/bin/hello-spie";
const LDSO: &str = "lib/ld-linux-riscv64-lp64d.so.1";

/// Runs `vmlab ARGS` in the crate root.
fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the vmlab binary runs")
}

/// A temporary folder that removes itself.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("vmlab-dynamic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("lib")).expect("the temporary directory is writable");
        Temp(p)
    }

    /// A sysroot whose interpreter is `bytes`.
    fn with_interp(name: &str, bytes: &[u8]) -> Temp {
        let t = Temp::new(name);
        std::fs::write(t.0.join(LDSO), bytes).expect("writable");
        t
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks that `vmlab ARGS` fails with a usage error (status 2) whose message is `msg`.
fn refused(args: &[&str], msg: &str) {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "vmlab {args:?}: {err}");
    assert_eq!(err.trim_end(), msg, "vmlab {args:?}");
}

#[test]
fn a_dynamic_program_without_a_sysroot_is_told_to_give_one() {
    refused(
        &["run", DYN],
        "error: programs/linux/bin/hello-dyn: a dynamically linked executable (it asks for the \
         interpreter /lib/ld-linux-riscv64-lp64d.so.1); run it with --sysroot DIR (a folder \
         holding that interpreter and the libraries, e.g. /usr/riscv64-linux-gnu), or link with \
         -static",
    );
    // The bare machine cannot run it either, and says the same.
    let out = vmlab(&["run", "--bare", DYN]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sysroot DIR"));
}

#[test]
fn a_sysroot_that_is_no_folder_is_refused() {
    refused(
        &["run", DYN, "--sysroot", "/nonexistent/vmlab-sysroot"],
        "error: --sysroot /nonexistent/vmlab-sysroot: no such folder; give the folder that \
         holds the interpreter and the libraries (e.g. /usr/riscv64-linux-gnu)",
    );
    refused(
        &["run", DYN, "--sysroot", DYN],
        "error: --sysroot programs/linux/bin/hello-dyn: not a folder; give the folder that \
         holds the interpreter and the libraries (e.g. /usr/riscv64-linux-gnu)",
    );
}

#[test]
fn an_interpreter_missing_from_the_sysroot_is_named_with_the_path_looked_at() {
    let t = Temp::new("missing");
    refused(
        &["run", DYN, "--sysroot", t.path()],
        &format!(
            "error: hello-dyn: its interpreter /lib/ld-linux-riscv64-lp64d.so.1 is not in the \
             sysroot {0} (looked at {0}/lib/ld-linux-riscv64-lp64d.so.1); give --sysroot the \
             folder that holds it (e.g. /usr/riscv64-linux-gnu)",
            t.path()
        ),
    );
}

#[test]
fn a_bad_interpreter_is_refused() {
    let t = Temp::with_interp("text", b"#!/bin/sh\n");
    refused(
        &["run", DYN, "--sysroot", t.path()],
        &format!(
            "error: hello-dyn: its interpreter /lib/ld-linux-riscv64-lp64d.so.1 (in --sysroot): \
             {}/{LDSO}: not an ELF file (it starts with 23 21 2f 62, an ELF file with 7f 45 4c \
             46); give vmlab a RISC-V executable, or an assembly file ending in .s",
            t.path()
        ),
    );
    // Not RISC-V: the static PIE with e_machine x86-64.
    let mut x86 = std::fs::read(root().join(SPIE)).unwrap();
    x86[18..20].copy_from_slice(&62u16.to_le_bytes());
    let t = Temp::with_interp("x86", &x86);
    let out = vmlab(&["run", DYN, "--sysroot", t.path()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ELF for x86-64 (machine 62), vmlab runs RISC-V"),
        "{err}"
    );
    // An interpreter that itself asks for one.
    let t = Temp::with_interp("dyn", &std::fs::read(root().join(DYN)).unwrap());
    refused(
        &["run", DYN, "--sysroot", t.path()],
        &format!(
            "error: hello-dyn: the interpreter {}/{LDSO} itself asks for an interpreter \
             (/lib/ld-linux-riscv64-lp64d.so.1); an interpreter must be static (the dynamic \
             linker ld.so)",
            t.path()
        ),
    );
}

#[test]
fn a_symlinked_interpreter_resolves_inside_the_sysroot() {
    // lib/ld-linux-riscv64-lp64d.so.1 -> /real/ld.so: absolute, so inside the sysroot.
    let t = Temp::new("link");
    std::fs::create_dir_all(t.0.join("real")).unwrap();
    std::fs::copy(root().join(SPIE), t.0.join("real/ld.so")).unwrap();
    std::os::unix::fs::symlink("/real/ld.so", t.0.join(LDSO)).unwrap();
    let out = vmlab(&["run", DYN, "--sysroot", t.path()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_dynamic_program_needs_vm_paging() {
    let t = Temp::with_interp("scheme", &std::fs::read(root().join(SPIE)).unwrap());
    for scheme in ["simple-paging", "dynamic-partitions", "vm-segmentation"] {
        let set = format!("os.scheme={scheme}");
        let out = vmlab(&["run", DYN, "--sysroot", t.path(), "--set", &set]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{scheme}: {err}");
        assert!(
            err.contains("a dynamically linked program needs the vm-paging scheme"),
            "{scheme}: {err}"
        );
    }
    let out = vmlab(&[
        "run",
        DYN,
        "--sysroot",
        t.path(),
        "--set",
        "os.scheme=simple-paging",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: hello-dyn: a dynamically linked program needs the vm-paging scheme (os.scheme = \
         \"vm-paging\"): its dynamic linker /lib/ld-linux-riscv64-lp64d.so.1 maps the libraries \
         with mmap of their files, which simple-paging cannot do; or link the program with \
         -static"
    );
}

#[test]
fn the_process_starts_in_the_interpreter_and_its_auxv_describes_the_program() {
    // The static PIE stands in for ld.so: it runs first (the process starts at the
    // interpreter's entry), and it checks the auxiliary vector against itself, which now
    // describes the program (AT_PHDR, AT_ENTRY, AT_PHNUM are hello-dyn's) and the
    // interpreter's own load address (AT_BASE).
    let t = Temp::with_interp("start", &std::fs::read(root().join(SPIE)).unwrap());
    let out = vmlab(&["run", DYN, "--sysroot", t.path()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "loaded above 0: ok\n\
         AT_PHDR is the loaded program headers: WRONG\n\
         AT_ENTRY is the loaded entry: WRONG\n\
         AT_PHNUM: WRONG\n\
         AT_BASE is 0 (no interpreter): WRONG\n\
         alpha\nbeta\ngamma\n"
    );
}

#[test]
fn a_static_pie_runs_at_its_load_bias() {
    for scheme in ["vm-paging", "simple-paging", "dynamic-partitions"] {
        let set = format!("os.scheme={scheme}");
        let out = vmlab(&["run", SPIE, "--set", &set]);
        assert_eq!(out.status.code(), Some(0), "{scheme}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("WRONG") && text.ends_with("gamma\n"),
            "{scheme}: {text}"
        );
    }
}
