//! The disk controller driven by a guest-style sequence of register writes: a DMA read of a
//! block into RAM that raises the completion interrupt at the disk model's finish time, a
//! DMA write back, and the error paths.

use vmlab_devices::disk::{Disk, DiskConfig, DiskOp, DiskRequest};
use vmlab_devices::diskctl::*;
use vmlab_devices::{Cycle, DiskController, MemoryConfig, MemorySystem, MIP_MEIP};

const CTL: u64 = 0x1000_1000;
const BUF: u64 = 0x8001_0000;

fn machine() -> MemorySystem {
    MemorySystem::new(MemoryConfig::default()).unwrap()
}

fn ctl(m: &mut MemorySystem) -> &mut DiskController {
    m.bus_mut().device_mut::<DiskController>().unwrap()
}

/// Ticks at every event until `until`, returning the cycle the interrupt line rose, if it did.
fn run_until(m: &mut MemorySystem, until: u64) -> Option<Cycle> {
    while let Some(t) = m.next_event() {
        if t.0 > until {
            break;
        }
        m.tick(t);
        if m.interrupts() & MIP_MEIP != 0 {
            return Some(t);
        }
    }
    None
}

#[test]
fn dma_read_raises_the_interrupt_at_the_finish_time() {
    let mut m = machine();
    let bs = m.load(CTL + DISK_BLOCK_SIZE, 8).unwrap().0;
    assert_eq!(bs, 4096);
    let blocks = m.load(CTL + DISK_BLOCKS, 8).unwrap().0;
    assert!(blocks > 100);
    let data: Vec<u8> = (0..bs).map(|i| (i * 7 + 3) as u8).collect();
    ctl(&mut m).disk_mut().write_blocks(42, &data).unwrap();

    // The guest: BLOCK = 42, DMA_ADDR = BUF, COUNT = 1, IRQ_ENABLE = 1, COMMAND = READ at 100.
    m.set_now(Cycle(100));
    m.store(CTL + DISK_BLOCK, 8, 42).unwrap();
    m.store(CTL + DISK_DMA_ADDR, 4, BUF & 0xffff_ffff).unwrap();
    m.store(CTL + DISK_DMA_ADDR + 4, 4, BUF >> 32).unwrap();
    m.store(CTL + DISK_COUNT, 8, 1).unwrap();
    m.store(CTL + DISK_IRQ_ENABLE, 8, 1).unwrap();
    m.store(CTL + DISK_COMMAND, 8, CMD_READ).unwrap();
    let status = m.load(CTL + DISK_STATUS, 8).unwrap().0;
    assert_eq!(status, STATUS_BUSY | 1 << 32, "busy, one outstanding");
    assert_eq!(m.load(CTL + DISK_SUBMITTED, 8).unwrap().0, 1);

    // The same request on a disk of its own finishes at the same cycle.
    let mut alone = Disk::new(DiskConfig::default()).unwrap();
    alone
        .submit(DiskRequest {
            id: 0,
            op: DiskOp::Read,
            block: 42,
            count: 1,
            arrival: Cycle(100),
        })
        .unwrap();
    let finish = alone.drain()[0].finish;
    assert!(finish > Cycle(100));
    assert_eq!(m.next_event(), Some(finish));

    // Nothing before the finish: no interrupt, no data.
    m.tick(Cycle(finish.0 - 1));
    assert_eq!(m.interrupts() & MIP_MEIP, 0);
    assert_eq!(m.peek(BUF, 8), Ok(0));
    assert_eq!(run_until(&mut m, u64::MAX), Some(finish));
    let mut back = vec![0u8; bs as usize];
    m.ram().peek_bytes(BUF, &mut back).unwrap();
    assert_eq!(back, data, "the block arrived in RAM by DMA");
    let status = m.load(CTL + DISK_STATUS, 8).unwrap().0;
    assert_eq!(status, STATUS_DONE);
    assert_eq!(m.load(CTL + DISK_COMPLETED, 8).unwrap().0, 1);
    assert_eq!(m.load(CTL + DISK_LAST_ID, 8).unwrap().0, 0);
    let c = ctl(&mut m).completions()[0];
    assert_eq!((c.finish, c.arrival), (finish, Cycle(100)));

    // Acknowledge: write 1 to DONE.
    m.store(CTL + DISK_STATUS, 8, STATUS_DONE).unwrap();
    assert_eq!(m.interrupts() & MIP_MEIP, 0);
    assert_eq!(m.load(CTL + DISK_STATUS, 8).unwrap().0, 0);
}

#[test]
fn dma_write_then_read_back_and_queued_requests() {
    let mut m = machine();
    let bs = 4096u64;
    m.ram_mut().write_bytes(BUF, &[0xab; 4096 * 2]).unwrap();
    m.store(CTL + DISK_BLOCK, 8, 7).unwrap();
    m.store(CTL + DISK_DMA_ADDR, 8, BUF).unwrap();
    m.store(CTL + DISK_COUNT, 8, 2).unwrap();
    m.store(CTL + DISK_COMMAND, 8, CMD_WRITE).unwrap();
    // A second request queued behind it: read block 8 into another buffer.
    m.store(CTL + DISK_BLOCK, 8, 8).unwrap();
    m.store(CTL + DISK_DMA_ADDR, 8, BUF + 0x10000).unwrap();
    m.store(CTL + DISK_COUNT, 8, 1).unwrap();
    m.store(CTL + DISK_COMMAND, 8, CMD_READ).unwrap();
    assert_eq!(
        m.load(CTL + DISK_STATUS + 4, 4).unwrap().0,
        2,
        "two outstanding"
    );
    // Interrupts are disabled: DONE is set but the line stays low.
    assert_eq!(run_until(&mut m, u64::MAX), None);
    assert_eq!(m.load(CTL + DISK_COMPLETED, 8).unwrap().0, 2);
    assert_eq!(m.load(CTL + DISK_STATUS, 8).unwrap().0, STATUS_DONE);
    let mut got = vec![0u8; bs as usize];
    m.ram().peek_bytes(BUF + 0x10000, &mut got).unwrap();
    assert!(
        got.iter().all(|&b| b == 0xab),
        "FCFS: the write landed before the read"
    );
    // Enabling the interrupt while DONE is pending raises it.
    m.store(CTL + DISK_IRQ_ENABLE, 8, 1).unwrap();
    assert_eq!(m.interrupts() & MIP_MEIP, MIP_MEIP);
    let get =
        |m: &MemorySystem, n: &str| m.stat_list().into_iter().find(|(k, _)| k == n).unwrap().1;
    assert_eq!(get(&m, "diskctl.dma_bytes_out"), 2 * bs);
    assert_eq!(get(&m, "diskctl.dma_bytes_in"), bs);
    assert_eq!(get(&m, "diskctl.interrupts"), 1);
}

#[test]
fn bad_commands_are_status_errors_not_panics() {
    let mut m = machine();
    m.store(CTL + DISK_COMMAND, 8, 9).unwrap();
    assert_eq!(
        m.load(CTL + DISK_STATUS, 8).unwrap().0,
        STATUS_ERROR | ERR_BAD_COMMAND << 8
    );
    m.store(CTL + DISK_STATUS, 8, STATUS_ERROR).unwrap();
    assert_eq!(m.load(CTL + DISK_STATUS, 8).unwrap().0, 0);
    // Beyond the last block: the disk rejects it.
    m.store(CTL + DISK_BLOCK, 8, u64::MAX).unwrap();
    m.store(CTL + DISK_COUNT, 8, 2).unwrap();
    m.store(CTL + DISK_COMMAND, 8, CMD_READ).unwrap();
    assert_eq!(
        m.load(CTL + DISK_STATUS, 8).unwrap().0,
        STATUS_ERROR | ERR_REJECTED << 8
    );
    assert_eq!(m.next_event(), None);
    // A DMA buffer outside RAM: the request completes with an error and moves nothing.
    m.store(CTL + DISK_STATUS, 8, STATUS_ERROR).unwrap();
    m.store(CTL + DISK_BLOCK, 8, 0).unwrap();
    m.store(CTL + DISK_COUNT, 8, 1).unwrap();
    m.store(CTL + DISK_DMA_ADDR, 8, 0x1000).unwrap();
    m.store(CTL + DISK_COMMAND, 8, CMD_READ).unwrap();
    run_until(&mut m, u64::MAX);
    assert_eq!(
        m.load(CTL + DISK_STATUS, 8).unwrap().0,
        STATUS_DONE | STATUS_ERROR | ERR_DMA << 8
    );
    // No register past QUERY_STATUS, and no misaligned access.
    assert!(m.load(CTL + DISK_QUERY_STATUS, 8).is_ok());
    assert!(m.load(CTL + 0x70, 8).is_err());
    assert!(m.load(CTL + 0x0c, 8).is_err());
    assert!(m.load(CTL + 0x0c, 4).is_ok());
}
