//! Basic values every translation request carries: time, privilege, access kind, context.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use vmlab_common::Cycle;

/// The privilege level an access is made at (after MPRV has been applied by the CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privilege {
    /// User mode.
    #[serde(alias = "u")]
    User,
    /// Supervisor mode.
    #[serde(alias = "s")]
    Supervisor,
    /// Machine mode: never translated.
    #[serde(alias = "m")]
    Machine,
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::User => "U",
            Privilege::Supervisor => "S",
            Privilege::Machine => "M",
        })
    }
}

/// What an access does with the memory it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// An instruction fetch (goes through the instruction TLB).
    #[serde(alias = "x", alias = "exec", alias = "execute")]
    Fetch,
    /// A data load (goes through the data TLB).
    #[serde(alias = "r", alias = "read")]
    Load,
    /// A data store, including AMOs and SC (goes through the data TLB).
    #[serde(alias = "w", alias = "write")]
    Store,
}

impl AccessKind {
    /// All kinds, in the order statistics list them.
    pub const ALL: [AccessKind; 3] = [AccessKind::Fetch, AccessKind::Load, AccessKind::Store];

    /// The lower-case name used in statistics and reports.
    pub fn name(self) -> &'static str {
        match self {
            AccessKind::Fetch => "fetch",
            AccessKind::Load => "load",
            AccessKind::Store => "store",
        }
    }

    /// An index 0..3 for per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for AccessKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything about the hart the translation unit needs, passed in by value with each request.
///
/// The unit never reads CPU state: the CPU builds this from `mstatus`, `satp` and its
/// current privilege (with MPRV applied) and hands it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Context {
    /// The effective privilege of the access.
    pub privilege: Privilege,
    /// The current address-space identifier (`satp.ASID`).
    pub asid: u16,
    /// `mstatus.SUM`: supervisor may load and store user pages.
    pub sum: bool,
    /// `mstatus.MXR`: loads may read execute-only pages.
    pub mxr: bool,
}

impl Context {
    /// A user-mode context with the given ASID and SUM/MXR clear.
    pub fn user(asid: u16) -> Self {
        Context {
            privilege: Privilege::User,
            asid,
            sum: false,
            mxr: false,
        }
    }

    /// A supervisor-mode context with the given ASID and SUM/MXR clear.
    pub fn supervisor(asid: u16) -> Self {
        Context {
            privilege: Privilege::Supervisor,
            ..Context::user(asid)
        }
    }

    /// A machine-mode context (translation is bypassed).
    pub fn machine() -> Self {
        Context {
            privilege: Privilege::Machine,
            ..Context::user(0)
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::user(0)
    }
}

/// One translation request: which address, how it is accessed, how wide, and in what context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The virtual address of the first byte.
    pub va: u64,
    /// Fetch, load or store.
    pub kind: AccessKind,
    /// The access width in bytes (1, 2, 4 or 8; a fetch is 2 or 4).
    pub size: u8,
    /// Privilege, ASID, SUM and MXR.
    pub ctx: Context,
}

impl Request {
    /// A request with the given fields.
    pub fn new(va: u64, kind: AccessKind, size: u8, ctx: Context) -> Self {
        Request {
            va,
            kind,
            size,
            ctx,
        }
    }

    /// A one-byte load in `ctx`.
    pub fn load(va: u64, ctx: Context) -> Self {
        Request::new(va, AccessKind::Load, 1, ctx)
    }

    /// A one-byte store in `ctx`.
    pub fn store(va: u64, ctx: Context) -> Self {
        Request::new(va, AccessKind::Store, 1, ctx)
    }

    /// A four-byte fetch in `ctx`.
    pub fn fetch(va: u64, ctx: Context) -> Self {
        Request::new(va, AccessKind::Fetch, 4, ctx)
    }
}
