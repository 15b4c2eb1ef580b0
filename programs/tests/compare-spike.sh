#!/bin/sh
# Runs each program on Spike and on vmlab with commit logs and compares them line by line.
#   ./compare-spike.sh            every tests/*.elf, c/*.elf and bench/*-small.elf
#   ./compare-spike.sh FILE...    the given ELFs (paths relative to programs/tests)
# Lines that read counters (cycle, time, instret and their m- forms) and PMP CSR writes are
# compared without the value, since the machines count time differently and vmlab has no
# PMP entries; everything else should match:
# pc, instruction bits, privilege, register and CSR writes, memory addresses and data.
# Spike's first five lines (its boot ROM) are dropped, and its log is cut where vmlab's ends
# (Spike keeps running until its host notices tohost). VMLAB names the vmlab binary
# (default: ../../target/release/vmlab), SPIKE the spike binary.
set -eu
cd "$(dirname "$0")"
SPIKE=${SPIKE:-spike}
VMLAB=${VMLAB:-../../target/release/vmlab}
ISA=rv64imafdc_zicsr_zifencei_zicntr_zihpm
[ $# -eq 0 ] && set -- *.elf ../c/*.elf ../bench/*-small.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Counter reads: csrr rd, cycle/time/instret/mcycle/minstret (0xc00, 0xc01, 0xc02, 0xb00, 0xb02).
# PMP CSR writes: vmlab has zero PMP entries (its pmp CSRs read 0), Spike has 16.
mask='s/\((0x(c0[012]|b0[02])[0-9a-f]{5})\) (x[0-9]+ +)0x[0-9a-f]+/(\1) \3(counter)/; s/ (c9[0-9][0-9]_pmp[a-z0-9]+) 0x[0-9a-f]+/ \1 (pmp)/'
same=0
differ=0
for e in "$@"; do
    "$VMLAB" run "$e" --log-commits "$tmp/v.log" >/dev/null 2>&1 || true
    n=$(wc -l <"$tmp/v.log")
    timeout 120 "$SPIKE" --isa=$ISA -m0x80000000:0x8000000 --log-commits "$e" 2>"$tmp/s.raw" >/dev/null || true
    tail -n +6 "$tmp/s.raw" | grep '^core' | head -n "$n" >"$tmp/s.log"
    sed -E "$mask" "$tmp/v.log" >"$tmp/v.m"
    sed -E "$mask" "$tmp/s.log" >"$tmp/s.m"
    if cmp -s "$tmp/v.m" "$tmp/s.m"; then
        printf '%-28s %8s lines identical\n' "$e" "$n"
        same=$((same + 1))
    else
        d=$(diff "$tmp/v.m" "$tmp/s.m" | grep -c '^[<>]' || true)
        printf '%-28s %8s lines, %s differ; first:\n' "$e" "$n" "$d"
        diff "$tmp/v.m" "$tmp/s.m" | head -n 4 | sed 's/^/    /'
        differ=$((differ + 1))
    fi
done
echo "$same identical, $differ with differences"
