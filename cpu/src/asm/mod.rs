//! The assembler (in progress).
