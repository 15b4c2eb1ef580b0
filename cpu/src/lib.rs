//! The RISC-V CPU of vmlab.
//!
//! - [`isa`]: one table of RV64IMAFDC, Zicsr, Zifencei and the privileged instructions
//!   drives the decoder, the assembler's encoder and the objdump-style disassembler.
//! - [`fp`]: IEEE 754 arithmetic with RISC-V's NaN, flag and conversion rules.
//! - [`csr`], [`trap`], [`vmcsr`]: the CSR file, traps and privilege, and vmlab's custom
//!   CSRs for the MMU's non-RISC-V modes.
//! - [`hart`]: the functional execution core of one hart, reaching memory through the
//!   [`hart::HartMemory`] trait; [`timing`]: the pipeline timing model that prices each step.
//! - [`asm`]: the assembler (GNU as syntax to a linked ELF); [`objdump`]: whole-file
//!   disassembly; [`elf`]: the ELF loader.
//!
//! The `Machine` that wires the hart to the MMU and the memory system is in the `vmlab`
//! crate.

#![warn(missing_docs)]

pub mod asm;
pub mod csr;
pub mod debuginfo;
pub mod elf;
pub mod fp;
pub mod hart;
pub mod isa;
pub mod march;
pub mod objdump;
pub mod timing;
pub mod trap;
pub mod vmcsr;
