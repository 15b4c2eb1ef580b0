//! Pipes as a pure data structure: the buffer of one pipe and the open ends that refer to
//! it, as Linux's `fs/pipe.c` keeps them. The kernel's system calls (`pipe2`, `read`,
//! `write`, `close`, ...) drive it and do the blocking; nothing here knows of processes.
//!
//! A pipe is a ring of page-sized buffers, 16 of them by default (65536 bytes). A write
//! first tries to append its last partial page (`len % 4096` bytes) to the newest buffer
//! when that has room (so that small writes share a page), then fills new buffers a page
//! at a time while a slot is free. So a write of up to `PIPE_BUF` (4096) bytes is
//! all-or-nothing: it lands in one buffer or, when no slot is free, not at all. A read
//! takes bytes from the oldest buffers; a buffer's slot comes free when it is emptied.
//! The capacity in bytes therefore depends on how the bytes were written, exactly as on
//! Linux (65536 in writes of 4096 bytes; 64000 in writes of 1000, four to a page).
//!
//! An open end ([`PipeEnd`]) is an open file description: descriptors that `dup` (and
//! later `fork`) made share it and count as its references. When the last reference of
//! the last read (or write) end goes, the pipe's count of readers (writers) drops to 0:
//! a reader then sees the end of the file, a writer gets `SIGPIPE` and `EPIPE`.

use std::collections::{BTreeMap, VecDeque};

/// The page size a pipe's buffers have.
pub const PAGE: usize = 4096;
/// The most bytes a write moves atomically (`PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;
/// The buffers a new pipe has (`PIPE_DEF_BUFFERS`): 65536 bytes.
pub const DEFAULT_SLOTS: usize = 16;
/// The largest size an unprivileged `F_SETPIPE_SZ` may ask for
/// (`/proc/sys/fs/pipe-max-size`).
pub const MAX_SIZE: u64 = 1 << 20;

/// A pipe's id (the kernel's).
pub type PipeId = u64;
/// An open end's id: the open file description a descriptor refers to.
pub type EndId = u64;

/// One page-sized buffer: its bytes not yet read.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Buf {
    /// The page's bytes.
    data: Vec<u8>,
    /// How many of them were read already.
    read: usize,
}

impl Buf {
    fn len(&self) -> usize {
        self.data.len() - self.read
    }
}

/// Why a write moved nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// No read end is open: the writer gets `SIGPIPE` and `EPIPE`.
    NoReader,
    /// Every slot is full (or, for a write of up to `PIPE_BUF` bytes, the newest buffer has
    /// no room for all of it and no slot is free): it must wait, or fail with `EAGAIN`.
    Full,
}

/// Why a read moved nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The pipe is empty and a write end is open: it must wait, or fail with `EAGAIN`.
    Empty,
}

/// One pipe: its buffers, their number, and how many read and write ends are open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipe {
    bufs: VecDeque<Buf>,
    slots: usize,
    /// Open read ends (descriptions, not descriptors).
    pub readers: u32,
    /// Open write ends.
    pub writers: u32,
}

impl Default for Pipe {
    fn default() -> Pipe {
        Pipe::new()
    }
}

impl Pipe {
    /// An empty pipe of 16 buffers with one reader and one writer (as `pipe2` makes it).
    pub fn new() -> Pipe {
        Pipe {
            bufs: VecDeque::new(),
            slots: DEFAULT_SLOTS,
            readers: 1,
            writers: 1,
        }
    }

    /// The bytes in it, not yet read (`FIONREAD`).
    pub fn len(&self) -> usize {
        self.bufs.iter().map(Buf::len).sum()
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.bufs.is_empty()
    }

    /// Whether every slot holds a buffer (a write must then wait, unless it can append to
    /// the newest).
    pub fn is_full(&self) -> bool {
        self.bufs.len() >= self.slots
    }

    /// Its size in bytes (`F_GETPIPE_SZ`): slots times the page size.
    pub fn size(&self) -> u64 {
        (self.slots * PAGE) as u64
    }

    /// Writes `data`. `start`: this is the start of the write (its first bytes), which may
    /// then append its last partial page to the newest buffer; a blocked write that goes on
    /// later passes false. Returns how many bytes it moved: all of them, or fewer when the
    /// slots ran out (never part of a write of up to `PIPE_BUF` bytes).
    pub fn write(&mut self, data: &[u8], start: bool) -> Result<usize, WriteError> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.readers == 0 {
            return Err(WriteError::NoReader);
        }
        let mut done = 0;
        let chars = data.len() % PAGE;
        if start && chars > 0 {
            if let Some(last) = self.bufs.back_mut() {
                if last.data.len() + chars <= PAGE {
                    last.data.extend_from_slice(&data[..chars]);
                    done = chars;
                }
            }
        }
        while done < data.len() && !self.is_full() {
            let n = (data.len() - done).min(PAGE);
            self.bufs.push_back(Buf {
                data: data[done..done + n].to_vec(),
                read: 0,
            });
            done += n;
        }
        if done == 0 {
            return Err(WriteError::Full);
        }
        Ok(done)
    }

    /// Reads up to `max` bytes (what is there: a read never waits for more once it has
    /// some). `Ok` of nothing is the end of the file (empty, no writer left) or `max` 0.
    pub fn read(&mut self, max: usize) -> Result<Vec<u8>, ReadError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        if self.bufs.is_empty() {
            return if self.writers == 0 {
                Ok(Vec::new())
            } else {
                Err(ReadError::Empty)
            };
        }
        let mut out = Vec::new();
        while out.len() < max {
            let Some(b) = self.bufs.front_mut() else {
                break;
            };
            let n = b.len().min(max - out.len());
            out.extend_from_slice(&b.data[b.read..b.read + n]);
            b.read += n;
            if b.len() == 0 {
                self.bufs.pop_front();
            }
        }
        Ok(out)
    }

    /// `F_SETPIPE_SZ`: rounds `size` up to a power of two of at least a page (0 too), and
    /// makes that many bytes' slots; the new size. `Err(EINVAL)` for more than 2^31,
    /// `Err(EPERM)` above [`MAX_SIZE`], `Err(EBUSY)` if the buffers in use do not fit.
    pub fn set_size(&mut self, size: u64) -> Result<u64, u64> {
        use crate::kernel::errno;
        if size > 1 << 31 {
            return Err(errno::EINVAL);
        }
        let size = size.max(PAGE as u64).next_power_of_two();
        if size > MAX_SIZE {
            return Err(errno::EPERM);
        }
        let slots = (size / PAGE as u64) as usize;
        if slots < self.bufs.len() {
            return Err(errno::EBUSY);
        }
        self.slots = slots;
        Ok(self.size())
    }
}

/// An open end of a pipe: an open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeEnd {
    /// The pipe.
    pub pipe: PipeId,
    /// The write end (else the read end).
    pub write: bool,
    /// Its status flags as `F_GETFL` gives them: the access mode (`O_RDONLY` 0 or
    /// `O_WRONLY` 1) and `O_NONBLOCK`.
    pub flags: u64,
    /// Descriptors that refer to it.
    pub refs: u32,
}

/// `O_NONBLOCK`.
pub const O_NONBLOCK: u64 = 0o4000;

impl PipeEnd {
    /// Whether a call on it that cannot go on fails with `EAGAIN` instead of waiting.
    pub fn nonblocking(&self) -> bool {
        self.flags & O_NONBLOCK != 0
    }
}

/// What closing a reference to an end did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Released {
    /// The pipe.
    pub pipe: PipeId,
    /// It was a write end.
    pub write: bool,
    /// That was the last open end of its side: the other side's waiters must learn it.
    pub last: bool,
}

/// Every pipe and every open end, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipes {
    pipes: BTreeMap<PipeId, Pipe>,
    ends: BTreeMap<EndId, PipeEnd>,
    next: u64,
}

impl Pipes {
    /// No pipes.
    pub fn new() -> Pipes {
        Pipes::default()
    }

    /// A new pipe with `O_NONBLOCK` (alone of `flags`) on both its ends: the pipe, its
    /// read end and its write end, each with one reference.
    pub fn create(&mut self, flags: u64) -> (PipeId, EndId, EndId) {
        self.next += 1;
        let pipe = self.next;
        self.pipes.insert(pipe, Pipe::new());
        let nb = flags & O_NONBLOCK;
        let mut end = |write: bool| {
            self.next += 1;
            let id = self.next;
            self.ends.insert(
                id,
                PipeEnd {
                    pipe,
                    write,
                    flags: u64::from(write) | nb,
                    refs: 1,
                },
            );
            id
        };
        let (r, w) = (end(false), end(true));
        (pipe, r, w)
    }

    /// The open end `id`.
    pub fn end(&self, id: EndId) -> Option<PipeEnd> {
        self.ends.get(&id).copied()
    }

    /// Sets the `O_NONBLOCK` of end `id` as in `flags` (`F_SETFL`; the access mode stays).
    pub fn set_flags(&mut self, id: EndId, flags: u64) {
        if let Some(e) = self.ends.get_mut(&id) {
            e.flags = (e.flags & !O_NONBLOCK) | (flags & O_NONBLOCK);
        }
    }

    /// The pipe `id`.
    pub fn pipe(&self, id: PipeId) -> Option<&Pipe> {
        self.pipes.get(&id)
    }

    /// The pipe `id`, to change.
    pub fn pipe_mut(&mut self, id: PipeId) -> Option<&mut Pipe> {
        self.pipes.get_mut(&id)
    }

    /// One more descriptor refers to end `id` (`dup`, `fork`).
    pub fn hold(&mut self, id: EndId) {
        if let Some(e) = self.ends.get_mut(&id) {
            e.refs += 1;
        }
    }

    /// A descriptor that referred to end `id` was closed. When it was the last, the end
    /// closes (its pipe counts one reader or writer fewer); the pipe goes when both sides
    /// are closed.
    pub fn release(&mut self, id: EndId) -> Option<Released> {
        let e = self.ends.get_mut(&id)?;
        e.refs = e.refs.saturating_sub(1);
        if e.refs > 0 {
            return None;
        }
        let e = self.ends.remove(&id)?;
        let p = self.pipes.get_mut(&e.pipe)?;
        let count = if e.write {
            &mut p.writers
        } else {
            &mut p.readers
        };
        *count = count.saturating_sub(1);
        let last = *count == 0;
        if p.readers == 0 && p.writers == 0 {
            self.pipes.remove(&e.pipe);
        }
        Some(Released {
            pipe: e.pipe,
            write: e.write,
            last,
        })
    }

    /// How many pipes exist (one of whose ends is open).
    pub fn count(&self) -> usize {
        self.pipes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step of a pipe's life and what it must give.
    enum Op {
        /// Write this many bytes (a counter's bytes) at the start of a write; what it moves.
        W(usize, Result<usize, WriteError>),
        /// Go on with a write (not its start).
        More(usize, Result<usize, WriteError>),
        /// Read up to this many; how many it gets.
        R(usize, Result<usize, ReadError>),
        CloseReader,
        CloseWriter,
        /// The bytes in it and the buffers in use.
        Holds(usize, usize),
    }
    use Op::*;

    /// Runs `ops` on a new pipe: the bytes read must be the bytes written, in order.
    fn check(name: &str, ops: &[Op]) {
        let mut p = Pipe::new();
        let (mut wrote, mut read) = (0u32, 0u32);
        let byte = |i: u32| (i % 251) as u8;
        for (i, op) in ops.iter().enumerate() {
            let at = format!("{name}: step {i}");
            match op {
                W(n, want) | More(n, want) => {
                    let data: Vec<u8> = (0..*n as u32).map(|k| byte(wrote + k)).collect();
                    let got = p.write(&data, matches!(op, W(..)));
                    assert_eq!(got, *want, "{at}");
                    wrote += got.unwrap_or(0) as u32;
                }
                R(n, want) => {
                    let got = p.read(*n);
                    assert_eq!(got.as_ref().map(Vec::len).map_err(|e| *e), *want, "{at}");
                    for b in got.unwrap_or_default() {
                        assert_eq!(b, byte(read), "{at}: byte {read}");
                        read += 1;
                    }
                }
                CloseReader => p.readers -= 1,
                CloseWriter => p.writers -= 1,
                Holds(bytes, bufs) => {
                    assert_eq!((p.len(), p.bufs.len()), (*bytes, *bufs), "{at}");
                    assert_eq!(p.is_empty(), *bytes == 0, "{at}");
                }
            }
        }
    }

    #[test]
    fn pipes_behave_as_linux_pipes() {
        let cases: &[(&str, Vec<Op>)] = &[
            (
                "a write then reads of what is there",
                vec![
                    W(10, Ok(10)),
                    R(4, Ok(4)),
                    R(100, Ok(6)),
                    R(1, Err(ReadError::Empty)),
                ],
            ),
            (
                "small writes share a page",
                vec![W(1000, Ok(1000)), W(1000, Ok(1000)), Holds(2000, 1)],
            ),
            (
                "65536 bytes in writes of 4096, then full",
                (0..16)
                    .map(|_| W(4096, Ok(4096)))
                    .chain([
                        Holds(65536, 16),
                        W(1, Err(WriteError::Full)),
                        R(1, Ok(1)),
                        W(1, Err(WriteError::Full)),
                        R(4095, Ok(4095)),
                        W(1, Ok(1)),
                        W(1, Ok(1)),
                        Holds(61442, 16),
                    ])
                    .collect(),
            ),
            (
                "writes of 1000: four to a page, 64000 bytes in all",
                (0..64)
                    .map(|_| W(1000, Ok(1000)))
                    .chain([
                        Holds(64000, 16),
                        W(1000, Err(WriteError::Full)),
                        W(96, Ok(96)),
                    ])
                    .collect(),
            ),
            (
                "a write of PIPE_BUF or less is all or nothing",
                (0..15)
                    .map(|_| W(4096, Ok(4096)))
                    .chain([
                        W(4000, Ok(4000)),
                        W(97, Err(WriteError::Full)),
                        W(96, Ok(96)),
                    ])
                    .collect(),
            ),
            (
                "a larger write is split: its partial page first, then whole pages",
                vec![
                    W(100, Ok(100)),
                    W(5000, Ok(5000)),
                    Holds(5100, 2),
                    // Its partial page does not fit the newest buffer: pages from its start.
                    W(100_000, Ok(14 * 4096)),
                    Holds(5100 + 14 * 4096, 16),
                    R(65536, Ok(5100 + 14 * 4096)),
                    More(30_000, Ok(30_000)),
                    Holds(30_000, 8),
                ],
            ),
            (
                "a write that goes on does not append to the newest page",
                vec![W(10, Ok(10)), More(10, Ok(10)), Holds(20, 2)],
            ),
            (
                "end of file once the writer is gone and the pipe is empty",
                vec![
                    W(5, Ok(5)),
                    CloseWriter,
                    R(3, Ok(3)),
                    R(3, Ok(2)),
                    R(3, Ok(0)),
                ],
            ),
            (
                "no reader: EPIPE, unless the write is empty",
                vec![CloseReader, W(1, Err(WriteError::NoReader)), W(0, Ok(0))],
            ),
            (
                "a read of 0 bytes",
                vec![R(0, Ok(0)), W(3, Ok(3)), R(0, Ok(0))],
            ),
        ];
        for (name, ops) in cases {
            check(name, ops);
        }
    }

    #[test]
    fn the_size_is_a_power_of_two_of_pages_and_holds_what_is_in_it() {
        let mut p = Pipe::new();
        assert_eq!(p.size(), 65536);
        for (ask, want) in [
            (1, Ok(4096)),
            (4097, Ok(8192)),
            (65536, Ok(65536)),
            (MAX_SIZE, Ok(MAX_SIZE)),
            (MAX_SIZE + 1, Err(crate::kernel::errno::EPERM)),
            (0, Ok(4096)),
            (1 << 40, Err(crate::kernel::errno::EINVAL)),
        ] {
            assert_eq!(p.set_size(ask), want, "{ask}");
        }
        assert_eq!(p.set_size(4096), Ok(4096));
        assert_eq!(p.write(&[7; 5000], true), Ok(4096), "one page");
        assert!(p.is_full());
        p.set_size(8192).expect("grows");
        p.write(&[7; 10], true).expect("room again");
        assert_eq!(p.set_size(4096), Err(crate::kernel::errno::EBUSY));
    }

    #[test]
    fn ends_count_references_and_the_last_close_of_a_side_says_so() {
        let mut ps = Pipes::new();
        let (pipe, r, w) = ps.create(O_NONBLOCK | 0o2000000);
        assert_eq!(
            ps.end(r).map(|e| (e.write, e.flags)),
            Some((false, O_NONBLOCK))
        );
        assert_eq!(
            ps.end(w).map(|e| (e.write, e.flags)),
            Some((true, 1 | O_NONBLOCK))
        );
        ps.set_flags(w, 0);
        assert_eq!(ps.end(w).map(|e| e.flags), Some(1));
        ps.hold(w);
        assert_eq!(ps.release(w), None, "a dup is still open");
        assert_eq!(
            ps.release(w),
            Some(Released {
                pipe,
                write: true,
                last: true
            })
        );
        assert_eq!(ps.pipe(pipe).map(|p| (p.readers, p.writers)), Some((1, 0)));
        assert_eq!(ps.release(w), None, "closed already");
        assert_eq!(
            ps.release(r).map(|x| x.last),
            Some(true),
            "the read end goes too"
        );
        assert_eq!(ps.count(), 0, "and so does the pipe");
    }
}
