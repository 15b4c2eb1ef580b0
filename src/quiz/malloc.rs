//! `vmlab quiz malloc`: the free-list exercise of OSTEP's `malloc.py` (the heap lab's
//! `vmlab malloc`, [`crate::malloc_cmd`]), as a problem and a worked answer: for each
//! allocation the bytes it takes, the chunks that fit and the one the policy picks, what it
//! returns and the free list after it; for each free the chunk that goes back and where.

use super::{Common, Generator, Quiz};
use crate::malloc_cmd::{self, HeapKnobs, MallocArgs};
use std::fmt::Write as _;
use vmlab_os::heap::{Chunk, Policy, StepKind};

/// The most operations a problem may have.
const MAX_OPS: u64 = 1000;

/// The options of `vmlab quiz malloc` (`malloc.py`'s short flags where they exist).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz malloc --seed 1\n  \
vmlab quiz malloc --seed 1 --answers\n  \
vmlab quiz malloc -n 8 -H 4 -a 4 -p first -l insert-front -C -s 5 -c\n  \
vmlab quiz malloc --seed 2 --answers --json")]
pub struct Args {
    /// The heap and the random operations (as `vmlab malloc`'s).
    #[command(flatten)]
    pub knobs: HeapKnobs,
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
}

fn list(chunks: &[Chunk]) -> String {
    if chunks.is_empty() {
        return "(empty)".to_owned();
    }
    chunks
        .iter()
        .map(|c| format!("[addr:{} sz:{}]", c.addr, c.size))
        .collect()
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        if self.knobs.num_ops == 0 || self.knobs.num_ops > MAX_OPS {
            return Err(format!(
                "--num-ops {}: give 1 to {MAX_OPS} operations",
                self.knobs.num_ops
            ));
        }
        let margs = MallocArgs {
            knobs: self.knobs.clone(),
            ops: None,
            seed,
            answers: false,
            json: false,
        };
        let ex = malloc_cmd::exercise(&margs)?;
        let problem = ex.text(false);
        let c = &ex.config;
        let policy = c.policy;
        let mut answer = String::new();
        let mut before: Vec<Chunk> = vec![Chunk {
            addr: c.base,
            size: c.size,
        }];
        // The chunk (address, bytes) each allocation took.
        let mut taken: Vec<Option<(u64, u64)>> = Vec::new();
        for step in &ex.steps {
            match step.kind {
                StepKind::Alloc {
                    index,
                    size,
                    request,
                    addr,
                    searched,
                } => {
                    let _ = writeln!(answer, "ptr[{index}] = Alloc({size})");
                    let Some(need) = request else {
                        let _ = writeln!(answer, "  the request overflows: returns -1");
                        taken.push(None);
                        continue;
                    };
                    let rounded = need - c.header;
                    let mut how = match c.align {
                        Some(a) if rounded != size => {
                            format!("{size} rounded up to {rounded} (align {a})")
                        }
                        _ => format!("{size}"),
                    };
                    if c.header > 0 {
                        let _ = write!(how, " + {}-byte header", c.header);
                    }
                    let _ = writeln!(answer, "  needs {how} = {need} bytes");
                    let _ = writeln!(answer, "  free list before: {}", list(&before));
                    let fits: Vec<String> = before
                        .iter()
                        .filter(|ch| ch.size >= need)
                        .map(|ch| format!("{} (sz {})", ch.addr, ch.size))
                        .collect();
                    let rule = match policy {
                        Policy::Best => "the smallest that fits, the first of equals",
                        Policy::Worst => "the largest, the first of equals",
                        Policy::First => "the first that fits",
                    };
                    if fits.is_empty() {
                        let _ = writeln!(
                            answer,
                            "  no free chunk holds {need} bytes: returns -1 (searched {searched})"
                        );
                        taken.push(None);
                    } else if let Some(a) = addr {
                        let _ = writeln!(
                            answer,
                            "  chunks that fit: {}; {} takes {rule}: {a} (searched {searched})",
                            fits.join(", "),
                            policy.name()
                        );
                        let _ = writeln!(
                            answer,
                            "  returns {} ({a} + header {})",
                            ex.shown_pointer(a),
                            c.header
                        );
                        taken.push(Some((a, need)));
                    }
                }
                StepKind::Free {
                    index,
                    addr,
                    result,
                } => {
                    let _ = writeln!(answer, "Free(ptr[{index}])");
                    match (addr, taken.get(index as usize).copied().flatten()) {
                        (Some(_), Some((chunk, bytes))) if result == 0 => {
                            let merge = match (c.coalesce, step.free_list.len() <= before.len()) {
                                (false, _) => "",
                                (true, true) => "; it is merged with its neighbours in memory",
                                (true, false) => "; no neighbour in the list touches it in memory",
                            };
                            let _ = writeln!(
                                answer,
                                "  ptr[{index}] = {} is the chunk at {chunk} of {bytes} bytes: it goes back on the list ({}){merge}; returns 0",
                                ex.shown_pointer(chunk),
                                c.order.name(),
                            );
                        }
                        _ => {
                            let _ = writeln!(
                                answer,
                                "  ptr[{index}] is not allocated: returns {result}"
                            );
                        }
                    }
                }
                StepKind::Skipped { index } => {
                    let _ = writeln!(
                        answer,
                        "Free(ptr[{index}]): skipped (no such allocation yet)"
                    );
                }
            }
            let _ = writeln!(
                answer,
                "  free list after ({} element{}): {}\n",
                step.free_list.len(),
                if step.free_list.len() == 1 { "" } else { "s" },
                list(&step.free_list)
            );
            before = step.free_list.clone();
        }
        let json: serde_json::Value =
            serde_json::from_str(&malloc_cmd::json(&ex)).map_err(|e| e.to_string())?;
        let json = serde_json::json!({
            "kind": "malloc",
            "seed": seed,
            "parameters": json["parameters"],
            "operations": json["operations"],
        });
        Ok(Quiz {
            problem,
            answer,
            scenario: None,
            json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Args {
        Args {
            knobs: HeapKnobs {
                size: 100,
                base: 1000,
                header: 4,
                align: "4".into(),
                policy: "best".into(),
                order: "addrsort".into(),
                coalesce: false,
                num_ops: 10,
                range: 10,
                percent_alloc: 50,
            },
            common: Common {
                seed: 0,
                answers: true,
                scenario: None,
                json: false,
            },
        }
    }

    #[test]
    fn the_problem_is_vmlab_mallocs_handout() {
        let q = args().generate(4).unwrap();
        assert!(q.problem.contains("returned ?"));
        assert!(q.answer.contains("free list after"));
        let ops = q.json["operations"].as_array().unwrap();
        assert_eq!(ops.len(), 10);
    }

    #[test]
    fn bad_knobs_are_refused() {
        let check = |f: &dyn Fn(&mut Args), want: &str| {
            let mut a = args();
            f(&mut a);
            let e = a.generate(1).unwrap_err();
            assert!(e.contains(want), "{e} lacks {want}");
        };
        check(&|a| a.knobs.num_ops = 0, "--num-ops 0");
        check(&|a| a.knobs.policy = "nope".into(), "--policy");
        check(&|a| a.knobs.order = "nope".into(), "--list-order");
        check(&|a| a.knobs.align = "3".into(), "power of two");
        check(&|a| a.knobs.percent_alloc = 0, "percent");
    }
}
