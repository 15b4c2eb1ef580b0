//! `vmlab report TRACE.jsonl -o FILE.html`: a run's pictures, drawn from its trace.

use crate::pictures::{html, run, trace};
use std::path::Path;
use std::process::ExitCode;

/// The exit status for input that cannot be used (as the other commands use).
const EXIT_INPUT: u8 = 2;

/// Writes the report of `page` to `output` and its figures to `svg`; the error in words.
pub fn write(page: &html::Page, output: Option<&Path>, svg: Option<&Path>) -> Result<(), String> {
    if let Some(o) = output {
        html::write_page(page, o)?;
    }
    if let Some(d) = svg {
        page.write_svgs(d)?;
    }
    Ok(())
}

/// Runs the command.
pub fn main(
    trace_path: &Path,
    output: Option<&Path>,
    svg: Option<&Path>,
    moments: usize,
) -> ExitCode {
    if output.is_none() && svg.is_none() {
        eprintln!("error: say where to write the pictures: -o FILE.html, --svg DIR, or both");
        return ExitCode::from(EXIT_INPUT);
    }
    let t = match trace::read(trace_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let page = run::build(&t, &run::Options { moments });
    match write(&page, output, svg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
