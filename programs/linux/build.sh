#!/bin/sh
# Rebuild every ELF of programs/linux/bin from src/ and re-record every expected
# output (expected/NAME.out) under qemu-riscv64, as listed in tests.toml.
#   ./build.sh            rebuild and re-record
#   ./build.sh --check    rebuild nothing; check the committed ELFs against expected/
# Needs: gcc-riscv64-linux-gnu (static glibc, libc6-dev-riscv64-cross), qemu-user,
# python3 >= 3.11 (tomllib).
set -eu
cd "$(dirname "$0")"
if [ "${1:-}" = "--check" ]; then exec python3 record.py --check; fi
CC=${CC:-riscv64-linux-gnu-gcc}
CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter -Wno-stringop-truncation -Wno-format-truncation"
STATIC="hello exit42 printf_int printf_float libm malloc_ds strings sort args_env
  fileio_tmp fileio_data stdin_wc mmap_prot mmap_file mmap_stream fsmeta recursion atexit_order segv_null sysinfo
  abort_sig float_heavy conv dir_list sieve heapmix stackalloc double_free
  pipe_basic pipe_nonblock pipe_sigpipe pipe_dup sig_segv_mprotect sig_info sig_bus"
# Not in tests.toml (it would wait for ever under qemu): tests/pipes.rs checks that
# vmlab's kernel ends its run as stuck on the pipe.
$CC -static $CFLAGS -o bin/pipe_stuck src/pipe_stuck.c
# Not in tests.toml: tests/linux.rs checks what it leaves in a writable mount.
$CC -static $CFLAGS -o bin/write_out src/write_out.c
# Processes that share: fork, exec, wait, pipes, shared memory, threads (tests.toml's
# needs name the kernel features; tests/processes.rs runs them, tests/linux.rs skips them).
STATIC="$STATIC fork_cow pipeline shm_anon shm_sysv shm_edges shm_exec shm_posix fork_exec pthread_counter vfork_exit"
# Threads: futex(2) called directly (its errors and keys), and how a process with
# threads ends (exit in a thread, pthread_exit in main, a fault, signals, fork);
# MADV_DONTNEED on shared and private anonymous memory; slow calls a signal interrupts.
STATIC="$STATIC futex_calls thread_life shm_madvise sig_eintr"
# Not in tests.toml: qemu-user makes vfork a fork, so it cannot record what Linux gives
# (tests/threads.rs holds the expected output, from Linux's behaviour).
$CC -static $CFLAGS -o bin/vfork_share src/vfork_share.c
# Not in tests.toml: the program fork_exec execs (its `execs`).
$CC -static $CFLAGS -o bin/exec_child src/exec_child.c
DYNAMIC="hello libm sort mmap_stream"
# The memory checker's programs (mc_*: one classic heap or memory error each, on its
# own line): with debug info for the checker's file:line, and -O0 so that no error is
# optimised away. mc_clean, the checker's error-free control, is -O2. The prefix map
# keeps the worktree's path out of the debug info, so the build stays reproducible.
MEMCHECK="mc_overflow mc_use_after_free mc_double_free mc_invalid_free mc_uninit mc_leak
  mc_wild mc_stack mc_reuse"
MCWARN="-Wall -Wextra -Wno-unused-parameter"
MCFLAGS="-g -O0 -ffile-prefix-map=$(pwd)=. $MCWARN"
MCCLEANFLAGS="-g -O2 -ffile-prefix-map=$(pwd)=. $MCWARN"
mkdir -p bin expected
for p in $STATIC; do
  $CC -static $CFLAGS -o bin/$p src/$p.c -lm
done
for p in $DYNAMIC; do
  $CC $CFLAGS -o bin/$p-dyn src/$p.c -lm
done
for p in $MEMCHECK; do
  $CC -static $MCFLAGS -o bin/$p src/$p.c
done
$CC -static $MCCLEANFLAGS -o bin/mc_clean src/mc_clean.c
# A static PIE without glibc (Debian's riscv64 glibc has no rcrt1.o for -static-pie).
$CC -static-pie -nostdlib -fPIE -fno-builtin $CFLAGS -Wl,--no-dynamic-linker \
  -o bin/hello-spie src/hello_spie.c
# Fork with copy-on-write under stress (tests/cow_stress.rs): a randomized walk of forks,
# stores, waits and mapping changes that checks isolation, and a fork bomb that meets
# the limit on processes (see tests.toml for how its output is recorded).
for p in cow_stress fork_bomb; do
  $CC -static $CFLAGS -o bin/$p src/$p.c
done
# Not in tests.toml: what the kernel does with signals where qemu-riscv64 cannot say
# (tests/signals.rs holds its expected outputs, from Linux's behaviour).
$CC -static $CFLAGS -o bin/sig_kernel src/sig_kernel.c
python3 record.py
