//! The RISC-V CPU of vmlab.
//!
//! Today this crate holds the instruction set ([`isa`]): one table of RV64IMAC, Zicsr,
//! Zifencei and the privileged instructions drives the decoder, the encoder the assembler
//! will use, and an objdump-style disassembler. Execution, CSRs, privilege and the pipeline
//! timing model come with the rest of issue 4.

#![warn(missing_docs)]

pub mod csr;
pub mod elf;
pub mod isa;
pub mod trap;
