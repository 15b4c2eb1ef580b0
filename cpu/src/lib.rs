//! The RISC-V CPU of vmlab.
//!
//! Today this crate holds the instruction set ([`isa`]): one table of RV64IMAC, Zicsr,
//! Zifencei and the privileged instructions drives the decoder, the encoder the assembler
//! will use, and an objdump-style disassembler; the CSR file ([`csr`]) and the trap and
//! privilege logic ([`trap`]); the functional execution core of one hart ([`hart`]), which
//! reaches memory through the [`hart::HartMemory`] trait; and the ELF loader ([`elf`]). The
//! pipeline timing model, the assembler and the `Machine` come with the rest of issue 4.

#![warn(missing_docs)]

pub mod asm;
pub mod csr;
pub mod elf;
pub mod hart;
pub mod isa;
pub mod objdump;
pub mod timing;
pub mod trap;
pub mod vmcsr;
