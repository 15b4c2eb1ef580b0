#!/usr/bin/env bash
# Remakes the screenshots in docs/img/ from the shipped examples: each report is written
# with --svg into a temporary folder, and one figure of each kind is rendered to PNG by
# headless Chromium, the window cut to the figure's size.
#
# Run from the repository root after `cargo build` (it uses target/debug/vmlab, or $VMLAB):
#   bash docs/img/make.sh
# It needs Chromium ($CHROMIUM, else chromium on the PATH) and python3 (to cut each
# screenshot to its figure). CI does not run it.
set -euo pipefail

VMLAB=${VMLAB:-target/debug/vmlab}
CHROMIUM=${CHROMIUM:-chromium}
OUT=docs/img
[ -x "$VMLAB" ] || { echo "no $VMLAB: run cargo build first" >&2; exit 1; }
[ -d "$OUT" ] || { echo "run from the repository root" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The shipped examples' reports, each figure also as DIR/ID.svg (at the moment the page
# opens at: the busiest one).
"$VMLAB" run programs/os/touch.s programs/os/hello.s --set os.user_frames=32 \
  --report "$TMP/paging.html" --svg "$TMP/paging" >/dev/null
# Six moments put the compaction at the busiest one, so the memory figure shows it.
"$VMLAB" run programs/os/short.s programs/os/long.s programs/os/short.s programs/os/long.s \
  programs/os/long.s --set os.scheme=dynamic-partitions --set os.user_frames=40 --moments 6 \
  --report "$TMP/dynamic.html" --svg "$TMP/dynamic" >/dev/null
"$VMLAB" run programs/os/long.s programs/os/short.s programs/os/long.s programs/os/short.s \
  --set os.scheme=vm-segmentation --set os.user_frames=22 \
  --report "$TMP/segmentation.html" --svg "$TMP/segmentation" >/dev/null
"$VMLAB" run programs/os/short.s programs/os/long.s programs/os/short.s programs/os/long.s \
  --set os.scheme=fixed-partitions --set 'os.partitions=[49152,81920,98304]' \
  --report "$TMP/fixed.html" --svg "$TMP/fixed" >/dev/null
"$VMLAB" run programs/os/belady.s --set os.frames_per_process=4 --set os.policy=fifo \
  --report "$TMP/belady.html" --svg "$TMP/belady" >/dev/null
"$VMLAB" translate programs/translate/sv39.toml \
  --report "$TMP/translate.html" --svg "$TMP/translate" >/dev/null
"$VMLAB" disk programs/disk/schedulers.toml --compare \
  --report "$TMP/disk.html" --svg "$TMP/disk" >/dev/null

# crop PNG H: keeps the top H rows of PNG. Its width does not change, so the first H filtered
# scanlines are kept as they are (a scanline's filter reads only the one above).
crop() {
  python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
path, h = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
pos, chunks = 8, []
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunks.append((kind, data[pos + 8:pos + 8 + n]))
    pos += 12 + n
ihdr = chunks[0][1]
w, depth, colour, interlace = struct.unpack(">I", ihdr[:4])[0], ihdr[8], ihdr[9], ihdr[12]
assert depth == 8 and interlace == 0 and colour in (2, 6), "an 8-bit RGB(A) PNG"
row = 1 + w * (4 if colour == 6 else 3)
pixels = zlib.decompress(b"".join(c for k, c in chunks if k == b"IDAT"))[: h * row]
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
out = data[:8] + chunk(b"IHDR", ihdr[:4] + struct.pack(">I", h) + ihdr[8:])
out += chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")
open(path, "wb").write(out)
PY
}

# shot FILE OUT.png [W H]: a screenshot of FILE, W by H pixels (an SVG: its width and height).
# Headless Chromium can leave the bottom of a small window unpainted, so the window is taller
# and the picture is cut to size afterwards.
shot() {
  local file=$1 png=$2 w=${3:-} h=${4:-}
  if [ -z "$w" ]; then
    local head
    head=$(grep -o '<svg[^>]*>' "$file" | head -n 1)
    w=$(sed -n 's/.* width="\([0-9.]*\)".*/\1/p' <<<"$head")
    h=$(sed -n 's/.* height="\([0-9.]*\)".*/\1/p' <<<"$head")
    w=${w%.*}
    h=${h%.*}
  fi
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$TMP/chromium" --screenshot="$png" \
    --run-all-compositor-stages-before-draw --virtual-time-budget=2000 \
    --window-size="$w,$((h + 400))" "file://$(realpath "$file")" >/dev/null 2>&1
  [ -s "$png" ] || { echo "no screenshot of $file" >&2; exit 1; }
  crop "$png" "$h"
  echo "$png: ${w}x${h}, $(($(stat -c %s "$png") / 1024)) KB"
}

shot "$TMP/paging/memory.svg" "$OUT/memory-frames.png"
shot "$TMP/dynamic/memory.svg" "$OUT/memory-blocks.png"
shot "$TMP/dynamic/fragmentation.svg" "$OUT/fragmentation.png"
shot "$TMP/paging/space-1.svg" "$OUT/space.png"
shot "$TMP/paging/table-1.svg" "$OUT/page-table.png"
shot "$TMP/segmentation/table-1.svg" "$OUT/segment-table.png"
shot "$TMP/fixed/table-2.svg" "$OUT/base-bounds.png"
shot "$TMP/paging/tlb-dtlb.svg" "$OUT/tlb.png"
shot "$TMP/dynamic/timeline.svg" "$OUT/timeline.png"
shot "$TMP/segmentation/fault-rate.svg" "$OUT/fault-rate.png"
shot "$TMP/belady/fault-curve.svg" "$OUT/fault-curve.png"
shot "$TMP/translate/access-1.svg" "$OUT/translate-access.png"
shot "$TMP/translate/tlb.svg" "$OUT/translate-tlb.png"
shot "$TMP/disk/head-path.svg" "$OUT/disk-head-path.png"
shot "$TMP/disk/time-split.svg" "$OUT/disk-time-split.png"
# The top of a whole report page.
shot "$TMP/paging.html" "$OUT/report.png" 1400 1000
