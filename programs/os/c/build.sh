#!/bin/sh
# Rebuilds the C programs for vmlab's kernel with Debian's RISC-V cross toolchain
# (apt-get install gcc-riscv64-unknown-elf). The built ELFs are committed, so tests and CI
# run without the toolchain.
set -eu
cd "$(dirname "$0")"
CC=${CC:-riscv64-unknown-elf-gcc}
FLAGS="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -O2 -nostdlib -ffreestanding -fno-builtin -static -T link.ld -Wl,--no-relax"
for p in heap; do
    $CC $FLAGS -o "$p.elf" crt0.s "$p.c"
done
# sbss: GCC's own default layout (no link script): the data segment starts mid-page with
# .sdata, .sbss and .bss after it.
$CC $(echo "$FLAGS" | sed 's/ -T link.ld//') -o sbss.elf crt0.s sbss.c
