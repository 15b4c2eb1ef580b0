#!/bin/sh
# Runs programs on Spike and prints pass/fail with each exit code.
#   ./run-spike.sh            every tests/*.elf, c/*.elf and the bench/*-small.elf variants
#   ./run-spike.sh --full     the same plus the full-size benchmarks (20-100 M instructions)
#   ./run-spike.sh FILE...    the given ELFs (paths relative to programs/tests)
# SPIKE names the spike binary (default: spike on PATH); TIMEOUT the limit per run in
# seconds (default 120). Spike needs the Zicntr/Zihpm counters in its ISA string.
set -eu
cd "$(dirname "$0")"
SPIKE=${SPIKE:-spike}
ISA=rv64imafdc_zicsr_zifencei_zicntr_zihpm
if [ $# -eq 0 ]; then
    set -- *.elf ../c/*.elf ../bench/*-small.elf
elif [ "$1" = --full ]; then
    set -- *.elf ../c/*.elf ../bench/*.elf
fi
out=$(mktemp)
fails=0
for e in "$@"; do
    rc=0
    timeout "${TIMEOUT:-120}" "$SPIKE" --isa=$ISA -m0x80000000:0x8000000 "$e" >"$out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        printf '%-28s pass\n' "$e"
    else
        printf '%-28s FAIL (exit code %s)\n' "$e" "$rc"
        sed 's/^/    /' "$out" | tail -n 5
        fails=$((fails + 1))
    fi
done
rm -f "$out"
echo "$fails failing"
[ "$fails" -eq 0 ]
