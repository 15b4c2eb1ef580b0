#!/bin/sh
# Rebuilds the bare-metal C programs with Debian's riscv64-unknown-elf-gcc (apt-get install
# gcc-riscv64-unknown-elf). No libc: crt0.s, htif.c and link.ld are the whole runtime.
# -misa-spec=2.2 keeps rv64imac (with zicsr/zifencei implied) on the lp64 multilib.
set -eu
cd "$(dirname "$0")"
CC=riscv64-unknown-elf-gcc
CFLAGS="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany -mno-relax -O2 -nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -Wall -Wextra"
LDFLAGS="-Wl,--no-relax -Wl,-T,link.ld -Wl,--build-id=none"
for p in hello sort crcsieve; do
    $CC $CFLAGS $LDFLAGS -o "$p.elf" crt0.s htif.c "$p.c" -lgcc
done
