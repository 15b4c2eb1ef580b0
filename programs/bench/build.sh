#!/bin/sh
# Rebuilds the benchmarks: NAME.elf (full size, 20-100 M instructions) and NAME-small.elf
# (-DSMALL, about 0.1-0.3 M instructions) for each kernel, with start.s (Sv39 with 4 KiB
# pages, S-mode) and the HTIF/printf runtime of ../c. Needs gcc-riscv64-unknown-elf.
set -eu
cd "$(dirname "$0")"
CC=riscv64-unknown-elf-gcc
CFLAGS="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany -mno-relax -O2 -nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -Wall -Wextra -I../c"
LDFLAGS="-Wl,--no-relax -Wl,-T,link.ld -Wl,--build-id=none"
for p in matmul crc ptrchase sieve; do
    $CC $CFLAGS $LDFLAGS -o "$p.elf" start.s ../c/htif.c "$p.c" -lgcc
    $CC $CFLAGS -DSMALL $LDFLAGS -o "$p-small.elf" start.s ../c/htif.c "$p.c" -lgcc
done
