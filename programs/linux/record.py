#!/usr/bin/env python3
"""Run every test of tests.toml under qemu-riscv64 and record (or check) its stdout.

  record.py                 write expected/NAME.out; fail if an exit status differs
                            from the manifest's
  record.py --check         compare with expected/ and the manifest, write nothing
  record.py --strace DIR    also write DIR/NAME.strace (qemu -strace) and print a
                            per-test list of system calls (ioctl requests too)
  record.py --fd DIR        also log translated code (qemu -d in_asm) to DIR and
                            report whether each run executed F/D instructions
  record.py --icount DIR    also count the guest instructions each run executes
                            (qemu -d in_asm,exec,nochain; big logs in DIR, deleted)

Runs are deterministic: `env -i` plus the manifest's env, the manifest's args, stdin
from the manifest's file or /dev/null, no core files. A mount "host:/guest" is given
to qemu as a -L prefix folder holding a link guest -> host, so the guest's absolute
paths resolve there (qemu tries PREFIX/path first); the guest cwd is the host folder
that a mount maps it to. A dynamic test uses its sysroot as the -L prefix.

A test that execs a corpus program names it in `execs` (guest paths inside a mount).
qemu-user passes a guest's execve to the host kernel unchanged (no -L prefix, and the
host cannot run a RISC-V ELF without binfmt_misc), so for such a test each named
program gets a host wrapper script `#!/bin/sh ... exec qemu-riscv64 -0 "$0" ELF "$@"`
(its basename kept), and an argument equal to the guest path becomes the wrapper's
path. The host kernel then does the real execve (close-on-exec descriptors, argv,
envp, signal dispositions, pid) and qemu runs the new image. The wrapper unsets
the PWD that sh exports; -strace/-d apply to the first program only.
"""
import os, re, resource, shutil, stat, subprocess, sys, tempfile, tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = os.environ.get("QEMU", "qemu-riscv64")


def host_path(mounts, guest):
    for m in mounts:
        h, g = m.split(":")[:2]
        if guest == g or guest.startswith(g.rstrip("/") + "/"):
            return os.path.join(HERE, h) + guest[len(g):]
    raise SystemExit(f"guest path {guest} is in no mount")


def exec_wrappers(t, prefix_dir, qargs):
    """Writes a host wrapper for each guest program of t["execs"]; returns the test's
    args with each such guest path replaced by its wrapper's host path."""
    wrapped = {}
    qemu = shutil.which(QEMU) or QEMU
    for g in t.get("execs", []):
        elf = host_path(t.get("mounts", []), g)
        d = os.path.join(prefix_dir, t["name"] + "-execs")
        os.makedirs(d, exist_ok=True)
        w = os.path.join(d, os.path.basename(g))
        q = " ".join(f"'{a}'" for a in [qemu, *qargs])
        with open(w, "w") as f:
            f.write(f'#!/bin/sh\nunset PWD\nexec {q} -0 "$0" \'{elf}\' "$@"\n')
        os.chmod(w, os.stat(w).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        wrapped[g] = w
    return [wrapped.get(a, a) for a in t.get("args", [])]


def run(t, prefix_dir, extra):
    mounts = t.get("mounts", [])
    qargs = []
    if t.get("linkage") == "dynamic":
        if mounts:
            raise SystemExit(f"{t['name']}: a dynamic test with mounts is not supported here")
        qargs += ["-L", t["sysroot"]]
    elif mounts:
        root = os.path.join(prefix_dir, t["name"])
        for m in mounts:
            h, g = m.split(":")[:2]
            link = os.path.join(root, g.lstrip("/"))
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.islink(link):
                os.symlink(os.path.join(HERE, h), link)
        qargs += ["-L", root]
    cwd = host_path(mounts, t["cwd"]) if "cwd" in t else HERE
    args = exec_wrappers(t, prefix_dir, qargs)
    cmd = ["env", "-i", *t.get("env", []), QEMU, *qargs, *extra,
           os.path.join(HERE, t["elf"]), *args]
    stdin = open(os.path.join(HERE, t["stdin"]), "rb") if "stdin" in t else open(os.devnull, "rb")
    with stdin:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
    status = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return p.stdout, status


SYSCALL = re.compile(r"^\d+ ([a-z_0-9]+)\((.*)")


def syscalls(log):
    names, ioctls = [], []
    for line in open(log, errors="replace"):
        m = SYSCALL.match(line)
        if not m:
            u = re.search(r"Unknown syscall (\d+)", line)
            if u:
                names.append(f"unknown#{u.group(1)}")
            continue
        n = m.group(1)
        if n not in names:
            names.append(n)
        if n == "ioctl":
            req = m.group(2).split(",")[1].strip()
            if req not in ioctls:
                ioctls.append(req)
    return names, ioctls


# qemu -d in_asm lines: "0xADDR:  HEX  MNEMONIC  OPERANDS". F/D: every f* mnemonic but
# fence*, the compressed c.fld/c.fsd..., and csr accesses to fflags/frm/fcsr.
ASM_LINE = re.compile(r"^0x[0-9a-f]+:\s+[0-9a-f]+\s+(\S+)\s*(.*)")


def fd_insn(line):
    m = ASM_LINE.match(line)
    if not m:
        return None
    op, args = m.group(1), m.group(2)
    if (op.startswith("f") and not op.startswith("fence")) or op.startswith("c.f"):
        return op
    if op.startswith("csr") and re.search(r"\b(fflags|frm|fcsr)\b", args):
        return op + " " + re.search(r"\b(fflags|frm|fcsr)\b", args).group(1)
    return None


TRACE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")


def count_instructions(log):
    """Guest instructions executed: each block's length (from in_asm) times the
    times it ran (exec lines; nochain makes every run of a block log one)."""
    size, runs, cur = {}, {}, None
    for line in open(log, errors="replace"):
        if line.startswith("Trace"):
            m = TRACE.match(line)
            if m:
                pc = int(m.group(1), 16)
                runs[pc] = runs.get(pc, 0) + 1
        elif line.startswith("IN:"):
            cur = None
        elif line.startswith("0x"):
            a = int(line[2:18], 16)
            if cur is None:
                cur = a
                size[cur] = 0
            size[cur] += 1
    return sum(size.get(pc, 0) * n for pc, n in runs.items())


def main():
    argv = sys.argv[1:]
    check = "--check" in argv
    strace = argv[argv.index("--strace") + 1] if "--strace" in argv else None
    fd = argv[argv.index("--fd") + 1] if "--fd" in argv else None
    icount = argv[argv.index("--icount") + 1] if "--icount" in argv else None
    tests = tomllib.load(open(os.path.join(HERE, "tests.toml"), "rb"))["test"]
    bad = 0
    with tempfile.TemporaryDirectory() as prefix_dir:
        for t in tests:
            name = t["name"]
            extra = []
            if strace:
                os.makedirs(strace, exist_ok=True)
                log = os.path.join(os.path.abspath(strace), name + ".strace")
                extra = ["-strace", "-D", log]
            if fd:
                os.makedirs(fd, exist_ok=True)
                asm = os.path.join(os.path.abspath(fd), name + ".asm")
                extra = ["-d", "in_asm", "-D", asm]
            if icount:
                os.makedirs(icount, exist_ok=True)
                ilog = os.path.join(os.path.abspath(icount), name + ".log")
                extra = ["-d", "in_asm,exec,nochain", "-D", ilog]
            out, status = run(t, prefix_dir, extra)
            path = os.path.join(HERE, t["stdout"])
            note = ""
            if status != t["status"]:
                note += f" STATUS {status} != manifest {t['status']}"
                bad += 1
            if check:
                if not os.path.exists(path) or open(path, "rb").read() != out:
                    note += " STDOUT DIFFERS"
                    bad += 1
            elif not strace and not fd and not icount:
                with open(path, "wb") as f:
                    f.write(out)
            if strace:
                names, ioctls = syscalls(log)
                note += " syscalls: " + " ".join(names)
                if ioctls:
                    note += " | ioctl: " + " ".join(ioctls)
            if fd:
                insns = sorted({i for line in open(asm, errors="replace") for i in [fd_insn(line)] if i})
                used = bool(insns)
                note += f" F/D executed: {'yes: ' + ' '.join(insns) if used else 'no'}"
                if used != t["needs_fd"]:
                    note += f" MANIFEST SAYS needs_fd={t['needs_fd']}"
                    bad += 1
            if icount:
                note += f" instructions: {count_instructions(ilog)}"
                os.remove(ilog)
            print(f"{name}: status {status}, {len(out)} bytes{note}")
    if bad:
        print(f"{bad} problem(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
