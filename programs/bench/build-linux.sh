#!/bin/sh
# Rebuilds linux/NAME: the same benchmark sources as build.sh, built as static Linux
# programs (glibc, riscv64-linux-gnu-gcc) for `vmlab bench --hosted`, which runs each under
# the kernel and compares its speed with NAME.elf's on the bare machine. bench.h reads
# instret and cycle with csrr, which the kernel allows from U-mode (scounteren).
# Needs gcc-riscv64-linux-gnu.
set -eu
cd "$(dirname "$0")"
CC=riscv64-linux-gnu-gcc
CFLAGS="-O2 -static -fno-tree-loop-distribute-patterns -Wall -Wextra -Ilinux -I."
for p in matmul crc ptrchase sieve; do
    $CC $CFLAGS -o "linux/$p" "$p.c"
done
