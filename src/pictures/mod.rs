//! Pictures: the self-contained HTML reports (`--report FILE.html`) and their figures as SVG
//! (`--svg DIR`).
//!
//! A run's report is built from its trace ([`trace`]), the very records `--trace` writes, so
//! `vmlab report TRACE.jsonl` rebuilds it from the file; [`svg`] draws the figures and
//! [`html`] assembles the page.
#![allow(clippy::too_many_arguments)]

pub mod disk;
pub mod html;
pub mod run;
pub mod svg;
#[cfg(test)]
pub mod testing;
pub mod trace;
pub mod translate;
