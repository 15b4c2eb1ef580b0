#!/bin/sh
# Rebuilds every test program (NAME.s -> NAME.elf) with the Debian cross binutils
# (apt-get install binutils-riscv64-unknown-elf). Run ./gen_tests.py first if you changed
# src/*, common/*.s.in or gen_tests.py. The .elf files are committed.
set -eu
cd "$(dirname "$0")"
AS="riscv64-unknown-elf-as -march=rv64imac_zicsr_zifencei -mabi=lp64"
AS_FP="riscv64-unknown-elf-as -march=rv64imafdc_zicsr_zifencei -mabi=lp64d"
LD="riscv64-unknown-elf-ld --no-relax -T link.ld"
for s in *.s; do
    p=${s%.s}
    case $p in
    fp*) $AS_FP -o "$p.o" "$s" ;;   # the floating-point tests (RV64IMAFDC, lp64d)
    *) $AS -o "$p.o" "$s" ;;
    esac
    $LD -o "$p.elf" "$p.o"
    rm -f "$p.o"
done
