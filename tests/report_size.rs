//! A long run's report stays small: a trace of a million kernel events (synthetic, in the
//! format `--trace` writes: three processes paging through 4096 frames for a long time) gives
//! a page under 20 MB, which Chromium opens and draws (when it is there; see
//! tests/report_browser.rs).

#[path = "common/browser.rs"]
mod browser;

use browser::{chromium, render};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// A deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Writes a trace of about `events` records to `path`.
fn long_trace(path: &Path, events: usize) {
    const FRAMES: u64 = 4096;
    const BASE: u64 = 0x8040_0000;
    let f = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::new(f);
    let mut rng = Rng(7);
    writeln!(w, r#"{{"cycle":0,"event":"machine","version":1,"programs":["a","b","c"],"scheme":"vm-paging","policy":"clock","allocation":"global","page_size":4096,"format":"sv39","table_bytes":4096,"levels":3,"user_base":"{BASE:#x}","user_bytes":{},"frames":{FRAMES},"clock_hz":1000000000,"timeline_interval":100000,"summary":"synthetic"}}"#, FRAMES * 4096).unwrap();
    let mut cycle = 1u64;
    let mut n = 1;
    for pid in 1..=3u32 {
        writeln!(
            w,
            r#"{{"cycle":{cycle},"event":"spawn","pid":{pid},"name":"p{pid}"}}"#
        )
        .unwrap();
        writeln!(w, r#"{{"cycle":{cycle},"event":"layout","pid":{pid},"areas":[{{"kind":"text","start":"0x1000","end":"0x3000","perms":"r-x"}},{{"kind":"heap","start":"0x10000","end":"0x2010000","perms":"rw-"}},{{"kind":"stack","start":"0x3ff00000","end":"0x40000000","perms":"rw-"}}]}}"#).unwrap();
        n += 2;
    }
    let mut owner: Vec<Option<(u32, u64)>> = vec![None; FRAMES as usize];
    let mut hand = 0usize;
    let mut disk = 0u64;
    let mut instret = 0u64;
    let (mut faults, mut major) = (0u64, 0u64);
    let mut line = String::new();
    while n < events {
        cycle += 500 + rng.next() % 5000;
        let pid = 1 + (rng.next() % 3) as u32;
        let vpn = 0x10 + rng.next() % 8192;
        let va = vpn << 12;
        line.clear();
        let _ = writeln!(line, r#"{{"cycle":{cycle},"event":"switch","to":{pid}}}"#);
        let mut refs = String::new();
        for k in 0..8 {
            if k > 0 {
                refs.push(',');
            }
            let _ = write!(refs, "{}", 0x10 + rng.next() % 8192);
        }
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"refs","pid":{pid},"vpns":[{refs}]}}"#
        );
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"fault","pid":{pid},"va":"{va:#x}","access":"load","kind":"major"}}"#
        );
        faults += 1;
        major += 1;
        let pa = BASE + (hand as u64) * 4096;
        if let Some((op, ova)) = owner[hand] {
            let _ = writeln!(
                line,
                r#"{{"cycle":{cycle},"event":"evict","pid":{op},"va":"{ova:#x}","pa":"{pa:#x}","dirty":false,"for_pid":{pid}}}"#
            );
            n += 1;
        }
        owner[hand] = Some((pid, va));
        hand = (hand + 1) % FRAMES as usize;
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"disk","id":{disk},"op":"read","block":{},"count":8,"pa":"{pa:#x}","pid":{pid}}}"#,
            vpn * 8
        );
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"state","pid":{pid},"state":"blocked","on":"disk"}}"#
        );
        cycle += 100_000;
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"disk-done","id":{disk}}}"#
        );
        disk += 1;
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"frame","pa":"{pa:#x}","holds":"page","pid":{pid},"va":"{va:#x}"}}"#
        );
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"pte","pid":{pid},"level":2,"va":"{va:#x}","span":4096,"at":"{:#x}","value":"{:#x}","kind":"leaf","target":"{pa:#x}","flags":"rw-u-a-"}}"#,
            0x8000_1000 + (vpn % 512) * 8,
            (pa >> 12) << 10 | 0x57
        );
        let _ = writeln!(
            line,
            r#"{{"cycle":{cycle},"event":"state","pid":{pid},"state":"ready"}}"#
        );
        n += 9;
        instret += 2000;
        if n % 200 < 9 {
            let _ = writeln!(
                line,
                r#"{{"cycle":{cycle},"event":"sample","instret":{instret},"faults":{faults},"major":{major},"idle":{},"kernel":{},"working_set":300,"runnable":2,"blocked":1,"procs":[{{"pid":1,"cycles":1,"instret":1,"resident":4096}}]}}"#,
                cycle / 3,
                cycle / 10
            );
            n += 1;
        }
        w.write_all(line.as_bytes()).unwrap();
    }
    writeln!(w, r#"{{"cycle":{cycle},"event":"end","status":0,"instret":{instret},"reason":"all processes ended"}}"#).unwrap();
}

#[test]
fn a_million_events_give_a_small_report() {
    let dir = std::env::temp_dir().join(format!("vmlab-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("long.jsonl");
    long_trace(&trace, 1_000_000);
    let page = dir.join("long.html");
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(["report"])
        .arg(&trace)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(&page).unwrap().len();
    eprintln!("a million events: a report of {size} bytes");
    assert!(
        size < 20 << 20,
        "the report is {size} bytes: more than 20 MB"
    );
    if let Some(browser) = chromium() {
        let r = render(&browser, &page, &dir.join("profile"));
        eprintln!("Chromium: {r:?}");
        assert!(r.error.is_none() && r.ready > 0, "{r:?}");
        // The browser's own clock, from the navigation's start to the end of the script:
        // the page must open in under 3 seconds.
        let ms = r.ms.expect("the page's script records data-ms");
        assert!(ms < 3000, "the page took {ms} ms to open");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
