//! The bus map: overlap rejection, unmapped faults, device dispatch, little-endian data.

use std::any::Any;
use vmlab_devices::{
    Bus, BusErrorKind, ConfigError, Console, Cycle, Device, DeviceError, HtifConfig, Ram,
    RamConfig, Target,
};

fn bus() -> Bus {
    Bus::new(
        Ram::new(RamConfig {
            base: 0x8000_0000,
            size: 0x10_0000,
        })
        .unwrap(),
    )
}

/// A device with one 8-byte scratch register at offset 0 and a 0x20-byte window.
#[derive(Default)]
struct Scratch {
    reg: u64,
    writes: u64,
}

impl Device for Scratch {
    fn name(&self) -> &'static str {
        "scratch"
    }
    fn size(&self) -> u64 {
        0x20
    }
    fn read(&mut self, offset: u64, size: u8, _now: Cycle) -> Result<u64, DeviceError> {
        self.peek(offset, size)
    }
    fn write(&mut self, offset: u64, size: u8, value: u64, _: Cycle) -> Result<(), DeviceError> {
        if offset != 0 || size != 8 {
            return Err(DeviceError { offset, size });
        }
        self.reg = value;
        self.writes += 1;
        Ok(())
    }
    fn peek(&self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        match (offset, size) {
            (0, 8) => Ok(self.reg),
            (0, 4) => Ok(self.reg & 0xffff_ffff),
            (4, 4) => Ok(self.reg >> 32),
            _ => Err(DeviceError { offset, size }),
        }
    }
    fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.writes"), self.writes);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[test]
fn overlapping_maps_are_rejected_with_both_ranges() {
    let check = |base: u64, expect: Option<&str>| {
        let mut b = bus();
        b.map_device(0x1000_0000, Box::new(Console::new())).unwrap();
        let r = b.map_device(base, Box::new(Scratch::default()));
        match expect {
            None => assert!(r.is_ok(), "{base:#x}: {r:?}"),
            Some(needle) => {
                let e = r.unwrap_err();
                assert!(matches!(e, ConfigError::Overlap { .. }), "{e:?}");
                let m = e.to_string();
                assert!(m.contains(needle), "{base:#x}: {m}");
            }
        }
    };
    check(0x1000_0100, None); // just after the console's 0x100 bytes
    check(0x0fff_ffe0, None); // just before
    check(
        0x1000_00f0,
        Some("overlaps `console` at 0x10000000..0x10000100"),
    );
    check(0x0fff_fff0, Some("`scratch` at 0xffffff0..0x10000010"));
    check(
        0x800f_fff0,
        Some("overlaps `ram` at 0x80000000..0x80100000"),
    );
    check(0x7fff_fff0, Some("`ram`"));
    // Wrapping past the top of the address space is an error too, not a panic.
    let mut b = bus();
    let e = b
        .map_device(u64::MAX - 8, Box::new(Scratch::default()))
        .unwrap_err();
    assert!(e.to_string().contains("past the end"), "{e}");
    // Two devices of one name.
    let mut b = bus();
    b.map_device(0x1000, Box::new(Scratch::default())).unwrap();
    let e = b
        .map_device(0x2000, Box::new(Scratch::default()))
        .unwrap_err();
    assert!(e.to_string().contains("already mapped"), "{e}");
}

#[test]
fn unmapped_accesses_are_faults_not_panics() {
    let mut b = bus();
    b.map_device(0x1000_0000, Box::new(Scratch::default()))
        .unwrap();
    let now = Cycle(0);
    for (addr, size) in [
        (0u64, 8u8),
        (0x7fff_fffc, 8),  // straddles RAM's start
        (0x800f_fffc, 8),  // runs off RAM's end
        (0x1000_001c, 8),  // runs off the device's window
        (u64::MAX, 1),     // the top byte
        (u64::MAX - 3, 8), // would wrap
    ] {
        let e = b.read(addr, size, now).unwrap_err();
        assert_eq!(e.kind, BusErrorKind::Unmapped, "{addr:#x}");
        assert_eq!(e.addr, addr);
        assert!(!e.write);
        let e = b.write(addr, size, 0, now).unwrap_err();
        assert!(e.write && e.kind == BusErrorKind::Unmapped);
        assert!(b.peek(addr, size).is_err());
    }
    let e = b.read(0x8000_0000, 3, now).unwrap_err();
    assert_eq!(e.kind, BusErrorKind::BadSize);
    // A register the device does not have is an access fault naming the device.
    let e = b.write(0x1000_0008, 8, 1, now).unwrap_err();
    assert!(matches!(
        e.kind,
        BusErrorKind::Device {
            device: "scratch",
            ..
        }
    ));
    assert!(
        e.to_string().contains(
            "access fault: 8-byte write at physical address 0x10000008: device `scratch`"
        ),
        "{e}"
    );
    assert_eq!(b.stats().faults, 14);
}

#[test]
fn dispatch_and_little_endian() {
    let mut b = bus();
    b.map_device(0x1000_0000, Box::new(Scratch::default()))
        .unwrap();
    let now = Cycle(0);
    b.write(0x1000_0000, 8, 0x1122_3344_5566_7788, now).unwrap();
    assert_eq!(b.read(0x1000_0004, 4, now), Ok(0x1122_3344));
    assert_eq!(b.device::<Scratch>().unwrap().writes, 1);
    assert_eq!(b.target(0x1000_001f, 1), Target::Device { index: 0 });
    assert_eq!(b.target(0x1000_0020, 1), Target::Unmapped);
    b.write(0x8000_0000, 8, 0x0102_0304_0506_0708, now).unwrap();
    let bytes: Vec<u64> = (0..8)
        .map(|i| b.read(0x8000_0000 + i, 1, now).unwrap())
        .collect();
    assert_eq!(bytes, [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(b.read(0x8000_0002, 2, now), Ok(0x0506));
    b.write(0x8000_0003, 2, 0xaabb, now).unwrap();
    assert_eq!(b.peek(0x8000_0000, 8), Ok(0x0102_03aa_bb06_0708));
    let mut names = Vec::new();
    b.for_each_stat(&mut |n, _| names.push(n.to_string()));
    assert!(names.contains(&"scratch.writes".to_string()));
}

#[test]
fn htif_words_may_shadow_ram_but_not_devices() {
    let mut b = bus();
    b.map_device(0x1000_0000, Box::new(Console::new())).unwrap();
    // Inside RAM (where a test program's .tohost section is).
    b.map_htif(HtifConfig {
        tohost: 0x8000_1000,
        fromhost: 0x8000_1040,
        ..HtifConfig::default()
    })
    .unwrap();
    assert_eq!(b.target(0x8000_1000, 8), Target::Htif);
    assert_eq!(b.target(0x8000_1004, 4), Target::Htif);
    assert_eq!(
        b.target(0x8000_0ffc, 8),
        Target::Unmapped,
        "straddles a word"
    );
    assert_eq!(b.target(0x8000_1008, 8), Target::Ram);
    let e = b.set_htif(0x1000_0008, 0x2000).unwrap_err();
    assert!(e.to_string().contains("`console`"), "{e}");
    assert!(b.set_htif(0x2000, 0x2000).is_err());
    assert!(b
        .set_htif(0x2004, 0x3000)
        .unwrap_err()
        .to_string()
        .contains("aligned"));
    b.set_htif(0x2000, 0x2008).unwrap();
    assert_eq!(b.target(0x2008, 8), Target::Htif);
    let e = b
        .map_device(0x2000, Box::new(Scratch::default()))
        .unwrap_err();
    assert!(e.to_string().contains("htif.tohost"), "{e}");
}
