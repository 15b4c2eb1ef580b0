//! The Linux-program corpus of `programs/linux/` (its `tests.toml` manifest): reading the
//! manifest, and running one of its tests under a machine configuration.

// (Each test file uses a part of it.)
#![allow(dead_code)]

use serde::Deserialize;
use std::path::PathBuf;
use vmlab::hosted::{End, Hosted, Setup, StdinSource};
use vmlab::machine::apply_set_all;
use vmlab_cpu::elf::Elf;
use vmlab_os::kernel::Finish;

/// `programs/linux/`.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs/linux")
}

#[derive(Debug, Deserialize)]
struct Manifest {
    test: Vec<Test>,
}

/// One `[[test]]` of the manifest (the fields a run needs).
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
pub struct Test {
    /// Its name.
    pub name: String,
    /// The ELF, relative to `programs/linux/`.
    pub elf: String,
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// The environment.
    pub env: Vec<String>,
    /// Standard input, a file relative to `programs/linux/`.
    #[serde(default)]
    pub stdin: Option<String>,
    /// `host:guest[:rw]` mounts.
    pub mounts: Vec<String>,
    /// The working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// The expected standard output's file.
    pub stdout: String,
    /// The expected exit status.
    pub status: u8,
    /// `static` or `dynamic`.
    pub linkage: String,
    /// What the run needs of the kernel.
    #[serde(default)]
    pub needs: Vec<String>,
    /// A dynamic test's sysroot (the folder holding `lib/libc.so.6`).
    #[serde(default)]
    pub sysroot: Option<String>,
}

impl Test {
    /// A static program of `programs/linux/bin/` the manifest does not list, run with
    /// `args` and nothing else (no environment, standard input or mounts; status 0 and no
    /// output expected unless the caller says otherwise).
    pub fn bin(name: &str, args: &[&str]) -> Test {
        Test {
            name: name.into(),
            elf: format!("bin/{name}"),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            stdin: None,
            mounts: Vec::new(),
            cwd: None,
            stdout: String::new(),
            status: 0,
            linkage: "static".into(),
            needs: Vec::new(),
            sysroot: None,
        }
    }

    /// The expected standard output.
    pub fn want(&self) -> String {
        std::fs::read_to_string(root().join(&self.stdout)).expect("expected stdout")
    }
}

/// Every test of the manifest.
pub fn manifest() -> Vec<Test> {
    let text = std::fs::read_to_string(root().join("tests.toml")).expect("tests.toml");
    let m: Manifest = toml::from_str(&text).expect("tests.toml parses");
    m.test
}

/// The test called `name`.
pub fn test(name: &str) -> Test {
    manifest()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name} in tests.toml"))
}

/// What a run gave.
pub struct Run {
    /// How it ended.
    pub end: End,
    /// Its standard output.
    pub stdout: String,
    /// Its standard output, byte for byte.
    pub out: Vec<u8>,
    /// The kernel's line naming the system calls it did not serve, if any.
    pub unserved: Option<String>,
    /// Instructions retired.
    pub insns: u64,
    /// The kernel's report lines of its processes.
    pub reports: Vec<String>,
    /// Every statistic, by name.
    pub stats: Vec<(String, u64)>,
}

impl Run {
    /// The run's exit status; a run that did not end with every process ended is a test
    /// error.
    pub fn status(&self, what: &str) -> u8 {
        match &self.end {
            End::Kernel(Finish::AllEnded { status }) => *status,
            other => panic!("{what}: the run did not end: {other:?}"),
        }
    }

    /// The statistic `name` (0 if it is not reported).
    pub fn stat(&self, name: &str) -> u64 {
        self.stats
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }
}

/// Runs `t` with the machine settings `sets` (on top of a 400M-instruction limit and
/// Linux's 8 MiB stack limit).
pub fn run(t: &Test, sets: &[&str]) -> Run {
    let path = root().join(&t.elf);
    let elf = Elf::open(&path).unwrap_or_else(|e| panic!("{}: {e}", t.name));
    let mut all: Vec<String> = vec![
        "run.max_insns=400000000".into(),
        "os.stack_limit=8388608".into(),
    ];
    all.extend(sets.iter().map(|s| s.to_string()));
    let cfg = apply_set_all("", "(test)", &all).expect("config");
    let mut h = Hosted::with_setup(cfg, &[(t.name.clone(), elf)], Vec::new(), false, &setup(t))
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    let end = h.run().clone();
    // (Files a writable mount holds go back to the host.)
    let _ = h.sync_files();
    let out = h.machine.take_output();
    Run {
        end,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        out,
        unserved: h.unserved_report(),
        insns: h.machine.retired(),
        reports: h.process_reports(),
        stats: h.stat_list(),
    }
}

/// How the kernel is set up for `t`: its arguments, environment, standard input, mounts,
/// working directory and (a dynamic test) sysroot.
pub fn setup(t: &Test) -> Setup {
    let stdin = match &t.stdin {
        Some(f) => StdinSource::Bytes(std::fs::read(root().join(f)).expect("stdin file")),
        None => StdinSource::Empty,
    };
    let mounts = t
        .mounts
        .iter()
        .map(|m| {
            let parts: Vec<&str> = m.split(':').collect();
            let rw = parts.get(2) == Some(&"rw");
            (root().join(parts[0]), parts[1].to_string(), rw)
        })
        .collect();
    Setup {
        argv0: vec![t.elf.clone()],
        args: t.args.clone(),
        env: t.env.clone(),
        stdin,
        terminal: [false; 3],
        mounts,
        cwd: t.cwd.clone(),
        sysroot: if t.linkage == "dynamic" {
            t.sysroot.as_ref().and_then(|d| sysroot(d))
        } else {
            None
        },
    }
}

/// The sysroot a dynamic test names (Debian's `libc6-riscv64-cross`, which `.ci/run`
/// installs; `VMLAB_SYSROOT` overrides it), if it holds the C library. Without it the
/// dynamic tests are skipped with a note, unless `VMLAB_REQUIRE_SYSROOT` is set (CI).
pub fn sysroot(named: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var("VMLAB_SYSROOT").unwrap_or_else(|_| named.to_string()));
    if dir.join("lib/libc.so.6").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("VMLAB_REQUIRE_SYSROOT").is_none(),
        "no C library in the sysroot {} (install libc6-riscv64-cross)",
        dir.display()
    );
    eprintln!(
        "note: dynamic programs skipped: no {}/lib/libc.so.6 (apt-get install libc6-riscv64-cross)",
        dir.display()
    );
    None
}

/// Checks a run ended with `status`, printed `want`, and left no frame, table or swap slot
/// behind (the page cache keeps the frames it took for file pages, such as /tmp's).
pub fn check(r: &Run, status: u8, want: &str, what: &str) {
    assert_eq!(
        r.end,
        End::Kernel(Finish::AllEnded { status }),
        "{what}: {:?}",
        r.reports
    );
    assert_eq!(r.stdout, want, "{what}: {:?}", r.reports);
    assert_eq!(
        r.stat("os.paging.frames_free") + r.stat("os.page_cache.held"),
        r.stat("os.paging.frames"),
        "{what}: every user frame is free at the end, or the page cache's"
    );
    assert_eq!(r.stat("os.paging.table_frames"), 0, "{what}: page tables");
    assert_eq!(r.stat("os.paging.swap_used"), 0, "{what}: swap slots");
}
