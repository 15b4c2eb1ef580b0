//! `vmlab quiz KIND`: problem generators with worked answers, after OSTEP's homework
//! simulators. Each kind draws a problem from `--seed` (the same seed gives the same problem
//! everywhere), prints it as a student sees it, and with `--answers` (`-c`) the worked answer
//! step by step; `--scenario FILE` writes the problem as a file that `vmlab translate` or
//! `vmlab disk` grades (every answer as an `expect`), and `--json` prints problem and answers
//! as one JSON document. `docs/quiz.md` describes every kind and its knobs.
//!
//! A kind's answer is computed here by the textbook's arithmetic, not by the model; the tests
//! check, for many seeds, that the model (the MMU behind `vmlab translate`, the disk behind
//! `vmlab disk`, the kernel's replacement code) gives the same answer.

use std::path::PathBuf;
use std::process::ExitCode;

pub mod disk;
pub mod malloc;
pub mod multilevel;
pub mod paging;
pub mod relocation;
pub mod replacement;
pub mod rng;
pub mod segmentation;
pub mod tlb;
pub mod translate_common;

pub use rng::Rng;

/// `vmlab quiz`'s arguments: the kind, with its own options.
#[derive(Debug, clap::Args)]
pub struct QuizArgs {
    /// The kind of problem.
    #[command(subcommand)]
    pub kind: QuizKind,
}

/// The kinds of problem.
#[derive(Debug, clap::Subcommand)]
pub enum QuizKind {
    /// Base and bounds: which virtual addresses translate, and to what (OSTEP's relocation.py).
    Relocation(relocation::Args),
    /// Segmentation: which segment, and the physical address or the violation (segmentation.py).
    Segmentation(segmentation::Args),
    /// A linear page table: VPN, PTE, physical address or fault (paging-linear-translate.py).
    Paging(paging::Args),
    /// A multi-level page table: PDE, PTE, physical address and value, or fault
    /// (paging-multilevel-translate.py; also Sv39).
    Multilevel(multilevel::Args),
    /// A TLB: hit or miss for each access, and what each miss evicts.
    Tlb(tlb::Args),
    /// Page replacement: each access's hit or miss, victim and memory (paging-policy.py).
    Replacement(replacement::Args),
    /// Disk scheduling: the order requests are served and each one's seek, rotation and
    /// transfer (disk.py).
    Disk(disk::Args),
    /// The free list: what each malloc returns and the free list after it (malloc.py).
    Malloc(malloc::Args),
}

/// The options every kind has.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// The seed the problem is drawn from: the same seed gives the same problem everywhere.
    #[arg(short = 's', long, default_value = "0", value_name = "SEED", value_parser = crate::num::parse_num)]
    pub seed: u64,
    /// Print the worked answer, step by step, after the problem (OSTEP's -c).
    #[arg(short = 'c', long, visible_alias = "compute")]
    pub answers: bool,
    /// Also write the problem, with every answer as an `expect`, as a file that
    /// `vmlab translate` (or `vmlab disk`) runs and grades.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print one JSON document (the problem and its answers) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A generated problem.
#[derive(Debug, Clone)]
pub struct Quiz {
    /// The problem as a student sees it (ends with a newline).
    pub problem: String,
    /// The worked answer, step by step (ends with a newline).
    pub answer: String,
    /// The problem as a file for `vmlab translate` or `vmlab disk`, with every answer as an
    /// `expect`; `None` for a kind whose answers no such file grades.
    pub scenario: Option<String>,
    /// The problem and its answers as JSON.
    pub json: serde_json::Value,
}

/// What a kind's generator needs: its options and the seed.
pub trait Generator {
    /// Checks the options and draws the problem for `seed`, or says what is wrong with them.
    fn generate(&self, seed: u64) -> Result<Quiz, String>;
}

impl QuizKind {
    /// The kind's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            QuizKind::Relocation(_) => "relocation",
            QuizKind::Segmentation(_) => "segmentation",
            QuizKind::Paging(_) => "paging",
            QuizKind::Multilevel(_) => "multilevel",
            QuizKind::Tlb(_) => "tlb",
            QuizKind::Replacement(_) => "replacement",
            QuizKind::Disk(_) => "disk",
            QuizKind::Malloc(_) => "malloc",
        }
    }

    /// The options common to every kind.
    pub fn common(&self) -> &Common {
        match self {
            QuizKind::Relocation(a) => &a.common,
            QuizKind::Segmentation(a) => &a.common,
            QuizKind::Paging(a) => &a.common,
            QuizKind::Multilevel(a) => &a.common,
            QuizKind::Tlb(a) => &a.common,
            QuizKind::Replacement(a) => &a.common,
            QuizKind::Disk(a) => &a.common,
            QuizKind::Malloc(a) => &a.common,
        }
    }

    /// The kind's generator.
    pub fn generator(&self) -> &dyn Generator {
        match self {
            QuizKind::Relocation(a) => a,
            QuizKind::Segmentation(a) => a,
            QuizKind::Paging(a) => a,
            QuizKind::Multilevel(a) => a,
            QuizKind::Tlb(a) => a,
            QuizKind::Replacement(a) => a,
            QuizKind::Disk(a) => a,
            QuizKind::Malloc(a) => a,
        }
    }
}

/// What `vmlab quiz` prints: the problem, then (with `--answers`) the answer after a
/// heading; or the JSON document.
pub fn render(quiz: &Quiz, common: &Common) -> String {
    if common.json {
        let mut text = serde_json::to_string_pretty(&quiz.json).unwrap_or_default();
        text.push('\n');
        return text;
    }
    let mut out = quiz.problem.clone();
    if common.answers {
        out.push_str("\nANSWERS\n\n");
        out.push_str(&quiz.answer);
    }
    out
}

/// Runs `vmlab quiz` and returns the exit code.
pub fn main(args: &QuizArgs) -> ExitCode {
    let common = args.kind.common();
    let quiz = match args.kind.generator().generate(common.seed) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("error: vmlab quiz {}: {e}", args.kind.name());
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    if let Some(path) = &common.scenario {
        let Some(text) = &quiz.scenario else {
            eprintln!(
                "error: vmlab quiz {}: --scenario: this kind has no scenario file (its answers \
                 are printed with --answers)",
                args.kind.name()
            );
            return ExitCode::from(crate::cli::EXIT_INPUT);
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    }
    crate::cli::write_out(&render(&quiz, common))
}

/// For the kinds' unit tests: their options parsed from a command line.
#[cfg(test)]
pub(crate) mod testing {
    use clap::Parser;

    #[derive(Parser)]
    struct Cli<A: clap::Args> {
        #[command(flatten)]
        args: A,
    }

    /// The options `args` (a kind's flags, without the kind) give, or clap's message.
    pub fn parse<A: clap::Args>(args: &[&str]) -> Result<A, String> {
        Cli::<A>::try_parse_from(std::iter::once("quiz").chain(args.iter().copied()))
            .map(|c| c.args)
            .map_err(|e| e.to_string())
    }
}
