//! Wait queues: a process blocks on named events — a page in transfer, a segment being
//! brought in, a frame's write-back — and runs again when the last event it waits for has
//! happened.
//!
//! One mechanism for every kind of waiting, as Linux's `wait_queue_head_t` is: a queue per
//! event ([`WaitOn`]), and per process the set of events it waits for. [`WaitQueues::wait`]
//! adds a process to a queue, [`WaitQueues::wake_all`] empties one and returns the processes
//! that wait for nothing else now, [`WaitQueues::cancel`] takes a process out of every queue
//! (it was killed, or later: a signal interrupted the wait). Pipes ([`WaitOn::PipeReadable`],
//! [`WaitOn::PipeWritable`]), futexes and `wait4` add kinds of event, not mechanisms.

use crate::process::Pid;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Something a process can wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WaitOn {
    /// A page of an address space is being read in or written out, or waits for a frame.
    Page {
        /// The address space (today: its process's pid).
        space: u64,
        /// The page number.
        vpn: u64,
    },
    /// A segment of an address space is being read in or written out, or waits for room.
    Segment {
        /// The address space.
        space: u64,
        /// The segment.
        seg: usize,
    },
    /// A page of a file being read into the page cache.
    CachePage {
        /// The file's inode.
        ino: u64,
        /// The page's index in the file.
        index: u64,
    },
    /// A frame of the page cache to come free (a write-back to end).
    CacheRoom,
    /// The write-backs of a file's pages (`fsync`).
    FileSync {
        /// The file's inode.
        ino: u64,
    },
    /// A sleep (`nanosleep`) until the kernel's timer says its time has come.
    Timer {
        /// The sleeping process.
        pid: Pid,
    },
    /// A frame of user memory to come free (another process ends): a page table waits for
    /// one when none may be taken now.
    Frame,
    /// A child of `parent` to end (`wait4`, `waitid`).
    Child {
        /// The waiting parent.
        parent: Pid,
    },
    /// A `vfork` child to exec or end: its parent waits until it does.
    Vfork {
        /// The child.
        child: Pid,
    },
    /// A pipe to hold bytes, or to lose its last writer (a `read` of an empty pipe).
    PipeReadable {
        /// The pipe.
        pipe: u64,
    },
    /// A pipe to have room, or to lose its last reader (a `write` to a full pipe).
    PipeWritable {
        /// The pipe.
        pipe: u64,
    },
    /// A futex wait to end: a `FUTEX_WAKE` of its word, its timeout, or a signal (the
    /// kernel's futex queues say which word `pid` sleeps on).
    Futex {
        /// The sleeping task.
        pid: Pid,
    },
}

/// The kernel's wait queues.
#[derive(Clone, Debug, Default)]
pub struct WaitQueues {
    /// Each event's waiters, in the order they began to wait.
    queues: BTreeMap<WaitOn, VecDeque<Pid>>,
    /// Each waiting process's events.
    waiting: BTreeMap<Pid, BTreeSet<WaitOn>>,
}

impl WaitQueues {
    /// No process waits.
    pub fn new() -> WaitQueues {
        WaitQueues::default()
    }

    /// `pid` waits for `on` (again: a process is on a queue at most once).
    pub fn wait(&mut self, pid: Pid, on: WaitOn) {
        if self.waiting.entry(pid).or_default().insert(on) {
            self.queues.entry(on).or_default().push_back(pid);
        }
    }

    /// `on` happened: every process on its queue stops waiting for it. Returns, in the
    /// order they began to wait, those that now wait for nothing.
    pub fn wake_all(&mut self, on: WaitOn) -> Vec<Pid> {
        let Some(q) = self.queues.remove(&on) else {
            return Vec::new();
        };
        q.into_iter().filter(|&pid| self.forget(pid, on)).collect()
    }

    /// `on` happened for one waiter: the first on its queue stops waiting for it. Returns it
    /// if it now waits for nothing (`Some(None)`: it still waits for more; `None`: the queue
    /// was empty).
    pub fn wake_one(&mut self, on: WaitOn) -> Option<Option<Pid>> {
        let q = self.queues.get_mut(&on)?;
        let pid = q.pop_front()?;
        if q.is_empty() {
            self.queues.remove(&on);
        }
        Some(self.forget(pid, on).then_some(pid))
    }

    /// Takes `pid` off `on`'s books; true if it now waits for nothing.
    fn forget(&mut self, pid: Pid, on: WaitOn) -> bool {
        match self.waiting.get_mut(&pid) {
            Some(set) => {
                set.remove(&on);
                if set.is_empty() {
                    self.waiting.remove(&pid);
                    true
                } else {
                    false
                }
            }
            None => true,
        }
    }

    /// Takes `pid` out of every queue (it ended, or its wait was interrupted).
    pub fn cancel(&mut self, pid: Pid) {
        let Some(set) = self.waiting.remove(&pid) else {
            return;
        };
        for on in set {
            if let Some(q) = self.queues.get_mut(&on) {
                q.retain(|&p| p != pid);
                if q.is_empty() {
                    self.queues.remove(&on);
                }
            }
        }
    }

    /// Whether `pid` waits for anything.
    pub fn waits(&self, pid: Pid) -> bool {
        self.waiting.contains_key(&pid)
    }

    /// What `pid` waits for, in a stable order.
    pub fn waiting_on(&self, pid: Pid) -> Vec<WaitOn> {
        self.waiting
            .get(&pid)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The processes on `on`'s queue, in the order they began to wait.
    pub fn waiters(&self, on: WaitOn) -> Vec<Pid> {
        self.queues
            .get(&on)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: WaitOn = WaitOn::Page { space: 1, vpn: 7 };
    const W1: WaitOn = WaitOn::CachePage { ino: 5, index: 0 };
    const W2: WaitOn = WaitOn::CachePage { ino: 5, index: 1 };

    #[test]
    fn a_process_runs_when_its_last_event_happens() {
        let mut q = WaitQueues::new();
        q.wait(3, W1);
        q.wait(3, W2);
        q.wait(3, W2);
        assert_eq!(q.waiting_on(3), vec![W1, W2]);
        assert_eq!(q.wake_all(W2), Vec::<Pid>::new(), "3 still waits for W1");
        assert!(q.waits(3));
        assert_eq!(q.wake_all(W1), vec![3]);
        assert!(!q.waits(3));
        assert_eq!(
            q.wake_all(W1),
            Vec::<Pid>::new(),
            "an event nobody waits for"
        );
    }

    #[test]
    fn waiters_wake_in_the_order_they_came() {
        let mut q = WaitQueues::new();
        for pid in [4, 2, 9] {
            q.wait(pid, P);
        }
        q.wait(2, W1);
        assert_eq!(q.waiters(P), vec![4, 2, 9]);
        assert_eq!(q.wake_all(P), vec![4, 9], "2 still waits for W1");
        q.wait(5, P);
        q.wait(6, P);
        assert_eq!(q.wake_one(P), Some(Some(5)));
        assert_eq!(q.wake_one(P), Some(Some(6)));
        assert_eq!(q.wake_one(P), None);
    }

    #[test]
    fn a_cancelled_process_leaves_every_queue() {
        let mut q = WaitQueues::new();
        q.wait(1, P);
        q.wait(1, W1);
        q.wait(2, P);
        q.cancel(1);
        assert!(!q.waits(1));
        assert_eq!(q.waiters(P), vec![2]);
        assert_eq!(q.waiters(W1), Vec::<Pid>::new());
        assert_eq!(q.wake_all(P), vec![2]);
        q.cancel(42);
    }
}
