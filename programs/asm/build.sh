#!/bin/sh
# Rebuilds the example programs' ELF files with the Debian cross binutils
# (apt-get install binutils-riscv64-unknown-elf). vmlab assembles these .s files itself
# (`vmlab run programs/asm/hello.s`); the GNU-built .elf files are committed so that tests
# can check vmlab's assembler against GNU's output without the cross toolchain.
set -eu
cd "$(dirname "$0")"
AS="riscv64-unknown-elf-as -march=rv64imac_zicsr_zifencei -mabi=lp64"
LD="riscv64-unknown-elf-ld --no-relax -T ../elf/link.ld"
for s in *.s; do
    p="${s%.s}"
    $AS -o "$p.o" "$s"
    $LD -o "$p.elf" "$p.o"
    rm -f "$p.o"
done
