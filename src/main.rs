//! The `vmlab` command; everything lives in the library (`vmlab::cli`).

fn main() -> std::process::ExitCode {
    vmlab::cli::main()
}
