//! objdump-style disassembly of ELF files (in progress).
