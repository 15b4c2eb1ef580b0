#!/bin/sh
# Rebuilds the ELF loader's test programs with the Debian cross binutils
# (apt-get install binutils-riscv64-unknown-elf). The built .elf files are committed so CI
# does not need the cross toolchain; cpu/tests/elf.rs checks them against `nm` output.
set -eu
cd "$(dirname "$0")"
AS="riscv64-unknown-elf-as -march=rv64imac_zicsr_zifencei -mabi=lp64"
LD="riscv64-unknown-elf-ld --no-relax"
for p in exit bigbss lowaddr; do
    $AS -o "$p.o" "$p.s"
done
$LD -T link.ld -o exit.elf exit.o
$LD -T link.ld -o bigbss.elf bigbss.o
$LD -o lowaddr.elf lowaddr.o
rm -f exit.o bigbss.o lowaddr.o
for p in exit bigbss lowaddr; do
    echo "== $p.elf"
    riscv64-unknown-elf-nm -n "$p.elf"
done
