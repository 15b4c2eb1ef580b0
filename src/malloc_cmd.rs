//! `vmlab malloc`: the free-list paper exercise of OSTEP's `malloc.py`, on the heap
//! allocator of `vmlab-os` ([`vmlab_os::heap`]). The options, the transcript and the JSON
//! report are described in `docs/heap.md`.

use serde::Serialize;
use std::process::ExitCode;
use vmlab_os::heap::{Chunk, Exercise, Generator, HeapConfig, ListOrder, Policy, StepKind};

/// The heap and the random operations: the knobs `vmlab malloc` and `vmlab quiz malloc`
/// share (`malloc.py`'s short flags).
#[derive(Debug, Clone, clap::Args)]
pub struct HeapKnobs {
    /// The heap's size in bytes.
    #[arg(short = 'S', long, default_value = "100", value_name = "BYTES", value_parser = crate::num::parse_num)]
    pub size: u64,
    /// The heap's first address.
    #[arg(short = 'b', long, default_value = "1000", value_name = "ADDR", value_parser = crate::num::parse_num)]
    pub base: u64,
    /// The bytes of header in front of each allocation.
    #[arg(short = 'H', long = "header-size", default_value = "0", value_name = "BYTES", value_parser = crate::num::parse_num)]
    pub header: u64,
    /// Round each request up to a multiple of this power of two (before the header is
    /// added); -1 or none for no rounding.
    #[arg(
        short = 'a',
        long = "align",
        default_value = "-1",
        value_name = "BYTES",
        allow_hyphen_values = true
    )]
    pub align: String,
    /// How an allocation picks its chunk: BEST, WORST or FIRST (any case).
    #[arg(short = 'p', long, default_value = "BEST", value_name = "POLICY")]
    pub policy: String,
    /// How the free list is kept: ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT or
    /// INSERT-BACK (any case).
    #[arg(
        short = 'l',
        long = "list-order",
        default_value = "ADDRSORT",
        value_name = "ORDER"
    )]
    pub order: String,
    /// Merge free chunks that are neighbours in the list and in memory after each free.
    #[arg(short = 'C', long)]
    pub coalesce: bool,
    /// How many random operations to make (without --ops).
    #[arg(short = 'n', long = "num-ops", default_value = "10", value_name = "N", value_parser = crate::num::parse_num)]
    pub num_ops: u64,
    /// The largest random allocation (sizes are 1 to RANGE).
    #[arg(short = 'r', long, default_value = "10", value_name = "RANGE", value_parser = crate::num::parse_num)]
    pub range: u64,
    /// The percentage of random operations that allocate (1 to 100).
    #[arg(short = 'P', long = "percent-alloc", default_value = "50", value_name = "PERCENT", value_parser = crate::num::parse_num)]
    pub percent_alloc: u64,
}

/// The options of `vmlab malloc` (`malloc.py`'s short flags work too).
#[derive(Debug, Clone, clap::Args)]
pub struct MallocArgs {
    /// The heap and the random operations.
    #[command(flatten)]
    pub knobs: HeapKnobs,
    /// The operations instead of random ones: +SIZE allocates, -N frees the N-th
    /// allocation (from 0), e.g. +10,+20,-0.
    #[arg(
        short = 'A',
        long = "ops",
        visible_alias = "alloc-list",
        value_name = "LIST",
        allow_hyphen_values = true
    )]
    pub ops: Option<String>,
    /// The seed of the random operations.
    #[arg(short = 's', long, default_value = "0", value_name = "SEED", value_parser = crate::num::parse_num)]
    pub seed: u64,
    /// Print each operation's result and the free list after it (without: `?`, for a
    /// handout).
    #[arg(short = 'c', long, visible_alias = "compute")]
    pub answers: bool,
    /// Print one JSON document, every operation with its answer, instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses `--align`: `-1` or `none` for none, else a number (its power-of-two check is
/// the heap's).
fn parse_align(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    if t == "-1" || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    if t.starts_with('-') {
        return Err(format!(
            "`{text}` is negative: give a power of two, or -1 (or none) for no alignment"
        ));
    }
    crate::num::parse_num(t).map(Some)
}

/// The exercise the options describe, run; or what is wrong with them.
pub fn exercise(args: &MallocArgs) -> Result<Exercise, String> {
    let knobs = &args.knobs;
    let align = parse_align(&knobs.align).map_err(|e| format!("--align: {e}"))?;
    let policy = Policy::from_name(&knobs.policy).map_err(|e| format!("--policy: {e}"))?;
    let order = ListOrder::from_name(&knobs.order).map_err(|e| format!("--list-order: {e}"))?;
    let config = HeapConfig {
        base: knobs.base,
        size: knobs.size,
        header: knobs.header,
        align,
        policy,
        order,
        coalesce: knobs.coalesce,
    };
    let generator = Generator {
        seed: args.seed,
        ops: knobs.num_ops,
        range: knobs.range,
        percent_alloc: knobs.percent_alloc,
    };
    let run = match &args.ops {
        Some(ops) => Exercise::explicit(config, generator, ops),
        None => Exercise::random(config, generator),
    };
    run.map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct JsonChunk {
    addr: u64,
    size: u64,
}

#[derive(Serialize)]
struct JsonParams<'a> {
    size: u64,
    base: u64,
    header_size: u64,
    alignment: Option<u64>,
    policy: &'static str,
    list_order: &'static str,
    coalesce: bool,
    ops: Option<&'a str>,
    seed: u64,
    num_ops: u64,
    range: u64,
    percent_alloc: u64,
}

#[derive(Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum JsonOp {
    Alloc {
        index: u64,
        size: u64,
        request: Option<u64>,
        addr: Option<u64>,
        ptr: Option<u64>,
        returned: i128,
        searched: usize,
        free_list: Vec<JsonChunk>,
    },
    Free {
        index: u64,
        addr: Option<u64>,
        returned: i64,
        free_list: Vec<JsonChunk>,
    },
    Skipped {
        index: u64,
    },
}

#[derive(Serialize)]
struct JsonReport<'a> {
    parameters: JsonParams<'a>,
    operations: Vec<JsonOp>,
}

fn chunks(list: &[Chunk]) -> Vec<JsonChunk> {
    list.iter()
        .map(|c| JsonChunk {
            addr: c.addr,
            size: c.size,
        })
        .collect()
}

/// The JSON report: the parameters and one object per operation, always with its answer.
pub fn json(ex: &Exercise) -> String {
    let c = &ex.config;
    let g = &ex.generator;
    let report = JsonReport {
        parameters: JsonParams {
            size: c.size,
            base: c.base,
            header_size: c.header,
            alignment: c.align,
            policy: c.policy.name(),
            list_order: c.order.name(),
            coalesce: c.coalesce,
            ops: ex.ops_text.as_deref(),
            seed: g.seed,
            num_ops: g.ops,
            range: g.range,
            percent_alloc: g.percent_alloc,
        },
        operations: ex
            .steps
            .iter()
            .map(|s| match s.kind {
                StepKind::Alloc {
                    index,
                    size,
                    request,
                    addr,
                    searched,
                } => JsonOp::Alloc {
                    index,
                    size,
                    request,
                    addr,
                    ptr: addr.map(|a| a + c.header),
                    returned: addr.map_or(-1, |a| i128::from(ex.shown_pointer(a))),
                    searched,
                    free_list: chunks(&s.free_list),
                },
                StepKind::Free {
                    index,
                    addr,
                    result,
                } => JsonOp::Free {
                    index,
                    addr,
                    returned: result,
                    free_list: chunks(&s.free_list),
                },
                StepKind::Skipped { index } => JsonOp::Skipped { index },
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    s.push('\n');
    s
}

/// Runs `vmlab malloc` and returns the exit code (2 for impossible parameters).
pub fn main(args: &MallocArgs) -> ExitCode {
    match exercise(args) {
        Ok(ex) if args.json => crate::cli::write_out(&json(&ex)),
        Ok(ex) => crate::cli::write_out(&ex.text(args.answers)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(crate::cli::EXIT_INPUT)
        }
    }
}
