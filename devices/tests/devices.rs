//! The console, the CLINT timer and HTIF, driven the way a guest drives them: through loads
//! and stores at the default memory map.

use vmlab_devices::clint::{CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP};
use vmlab_devices::console::{CONSOLE_RX, CONSOLE_STATUS, CONSOLE_TX};
use vmlab_devices::{
    Clint, ClintConfig, Console, Cycle, MemoryConfig, MemorySystem, MIP_MSIP, MIP_MTIP,
};

const CLINT: u64 = 0x0200_0000;
const UART: u64 = 0x1000_0000;
const TOHOST: u64 = 0x0100_0000;
const FROMHOST: u64 = 0x0100_0008;

fn machine() -> MemorySystem {
    MemorySystem::new(MemoryConfig::default()).unwrap()
}

#[test]
fn console_tx_rx_status() {
    let mut m = machine();
    for b in b"hi\n" {
        // MMIO bypasses the caches and costs mmio_latency (10).
        assert_eq!(m.store(UART + CONSOLE_TX, 1, *b as u64), Ok(Cycle(10)));
    }
    assert_eq!(m.load(UART + CONSOLE_STATUS, 4), Ok((2, Cycle(10))));
    m.bus_mut()
        .device_mut::<Console>()
        .unwrap()
        .push_input(b"ok");
    assert_eq!(m.peek(UART + CONSOLE_STATUS, 4), Ok(3));
    assert_eq!(
        m.peek(UART + CONSOLE_RX, 4),
        Ok(b'o' as u64),
        "peek does not pop"
    );
    assert_eq!(m.load(UART + CONSOLE_RX, 4).unwrap().0, b'o' as u64);
    assert_eq!(m.load(UART + CONSOLE_RX, 1).unwrap().0, b'k' as u64);
    assert_eq!(m.load(UART + CONSOLE_RX, 4).unwrap().0, 0, "empty reads 0");
    assert_eq!(m.load(UART + CONSOLE_STATUS, 4).unwrap().0, 2);
    assert!(m.load(UART + 0x0c, 4).is_err(), "no register there");
    assert!(m.load(UART + 0x2, 4).is_err(), "misaligned");
    let c = m.bus_mut().device_mut::<Console>().unwrap();
    assert_eq!(c.take_output(), b"hi\n");
    let stats = m.stat_list();
    let get = |n: &str| stats.iter().find(|(k, _)| k == n).unwrap().1;
    assert_eq!(get("console.tx_bytes"), 3);
    assert_eq!(get("console.rx_bytes"), 2);
    assert_eq!(get("console.rx_empty"), 1);
    assert_eq!(get("memory.mmio"), 10);
    assert_eq!(
        get("cache.l1d.misses.load"),
        0,
        "MMIO never touches the caches"
    );
}

#[test]
fn clint_timer_interrupt_timing() {
    // Divider 10: mtime = cycle / 10.
    let mut m = machine();
    m.tick(Cycle(1234));
    assert_eq!(m.load(CLINT + CLINT_MTIME, 8).unwrap().0, 123);
    assert_eq!(m.next_event(), None, "mtimecmp is all ones at reset");
    // Interrupt when mtime reaches 200, at cycle 2000.
    m.store(CLINT + CLINT_MTIMECMP, 8, 200).unwrap();
    assert_eq!(m.next_event(), Some(Cycle(2000)));
    m.tick(Cycle(1999));
    assert_eq!(m.interrupts() & MIP_MTIP, 0);
    m.tick(Cycle(2000));
    assert_eq!(m.interrupts() & MIP_MTIP, MIP_MTIP);
    assert_eq!(m.next_event(), None);
    // Writing mtimecmp into the future clears MTIP at once.
    m.set_now(Cycle(2005));
    m.store(CLINT + CLINT_MTIMECMP + 4, 4, 1).unwrap(); // high half: 1 << 32 | 200
    assert_eq!(m.interrupts() & MIP_MTIP, 0);
    assert_eq!(m.peek(CLINT + CLINT_MTIMECMP, 8), Ok(1 << 32 | 200));
    // Writing mtime restarts the count from that cycle.
    m.set_now(Cycle(3000));
    m.store(CLINT + CLINT_MTIME, 8, 0).unwrap();
    m.store(CLINT + CLINT_MTIMECMP, 8, 5).unwrap();
    assert_eq!(m.next_event(), Some(Cycle(3050)));
    m.tick(Cycle(3049));
    assert_eq!(m.load(CLINT + CLINT_MTIME, 8).unwrap().0, 4);
    assert_eq!(m.interrupts() & MIP_MTIP, 0);
    m.tick(Cycle(3050));
    assert_eq!(m.interrupts() & MIP_MTIP, MIP_MTIP);
    // A comparison already true fires at once.
    m.store(CLINT + CLINT_MTIMECMP, 8, 0).unwrap();
    assert_eq!(m.interrupts() & MIP_MTIP, MIP_MTIP);
    // msip.
    m.store(CLINT + CLINT_MSIP, 4, 1).unwrap();
    assert_eq!(m.interrupts() & MIP_MSIP, MIP_MSIP);
    m.store(CLINT + CLINT_MSIP, 4, 0).unwrap();
    assert_eq!(m.interrupts() & MIP_MSIP, 0);
    assert!(m.store(CLINT + CLINT_MSIP + 4, 4, 0).is_err());
    let c = m.bus().device::<Clint>().unwrap();
    assert_eq!(c.stats().timer_interrupts, 2);
}

#[test]
fn clint_divider_must_be_positive() {
    let e = Clint::new(ClintConfig {
        divider: 0,
        ..ClintConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("at least 1 cycle"), "{e}");
}

#[test]
fn htif_exit() {
    let mut m = machine();
    m.set_now(Cycle(50));
    // riscv-tests: pass is tohost = 1; a failure in test 3 is (3 << 1) | 1.
    m.store(TOHOST, 8, (3 << 1) | 1).unwrap();
    assert_eq!(m.next_event(), Some(Cycle(50)));
    assert_eq!(m.load(TOHOST, 8).unwrap().0, 7, "not taken before the tick");
    m.tick(Cycle(50));
    assert_eq!(m.bus().htif().unwrap().exit_code(), Some(3));
    assert_eq!(m.load(TOHOST, 8).unwrap().0, 0, "the host cleared tohost");
    assert_eq!(m.next_event(), None);
}

#[test]
fn htif_console_char_and_write_syscall() {
    let mut m = machine();
    // Device 1, command 1: one character.
    m.store(TOHOST, 8, 1 << 56 | 1 << 48 | b'A' as u64).unwrap();
    m.tick(Cycle(1));
    assert_eq!(m.load(TOHOST, 4).unwrap().0, 0);
    // A syscall block: write(1, buf, 6).
    let magic = 0x8000_2000u64;
    let buf = 0x8000_3000u64;
    m.ram_mut().write_bytes(buf, b"hello\n").unwrap();
    for (i, w) in [64u64, 1, buf, 6].into_iter().enumerate() {
        m.store(magic + 8 * i as u64, 8, w).unwrap();
    }
    m.store(TOHOST, 8, magic).unwrap();
    m.tick(Cycle(2));
    assert_eq!(
        m.load(FROMHOST, 8).unwrap().0,
        1,
        "answered through fromhost"
    );
    assert_eq!(m.load(magic, 8).unwrap().0, 6, "the return value");
    m.store(FROMHOST, 8, 0).unwrap();
    // A bad fd and an unknown syscall get negative errnos.
    m.store(magic, 8, 64).unwrap();
    m.store(magic + 8, 8, 7).unwrap();
    m.store(TOHOST, 8, magic).unwrap();
    m.tick(Cycle(3));
    assert_eq!(m.peek(magic, 8).unwrap() as i64, -9);
    m.store(magic, 8, 12345).unwrap();
    m.store(TOHOST, 8, magic).unwrap();
    m.tick(Cycle(4));
    assert_eq!(m.peek(magic, 8).unwrap() as i64, -38);
    // A syscall block outside RAM is answered, not a panic.
    m.store(TOHOST, 8, 0x10).unwrap();
    m.tick(Cycle(5));
    // Syscall 93 exits.
    m.store(magic, 8, 93).unwrap();
    m.store(magic + 8, 8, 0).unwrap();
    m.store(TOHOST, 8, magic).unwrap();
    m.tick(Cycle(6));
    let h = m.bus_mut().htif_mut().unwrap();
    assert_eq!(h.exit_code(), Some(0));
    assert_eq!(h.take_output(), b"Ahello\n");
    assert_eq!(h.stats().commands, 6);
    assert_eq!(h.stats().errors, 2);
}

#[test]
fn htif_latency_delays_the_host() {
    let mut cfg = MemoryConfig::default();
    cfg.htif.latency = 100;
    let mut m = MemorySystem::new(cfg).unwrap();
    m.set_now(Cycle(10));
    m.store(TOHOST, 8, 1).unwrap();
    assert_eq!(m.next_event(), Some(Cycle(110)));
    m.tick(Cycle(109));
    assert_eq!(m.bus().htif().unwrap().exit_code(), None);
    m.tick(Cycle(110));
    assert_eq!(m.bus().htif().unwrap().exit_code(), Some(0));
}

#[test]
fn htif_console_read() {
    let mut m = machine();
    m.store(TOHOST, 8, 1 << 56).unwrap(); // device 1, command 0: read
    m.tick(Cycle(1));
    assert_eq!(m.peek(FROMHOST, 8), Ok(0), "no input yet");
    m.bus_mut().htif_mut().unwrap().push_input(b"x");
    assert_eq!(m.next_event(), Some(Cycle(0)));
    m.tick(Cycle(2));
    assert_eq!(m.peek(FROMHOST, 8), Ok(1 << 56 | 0x100 | b'x' as u64));
}
