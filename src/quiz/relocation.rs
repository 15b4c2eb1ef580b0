//! `vmlab quiz relocation`. (Being written: this kind only refuses for now.)

use super::{Common, Generator, Quiz};

/// The options of `vmlab quiz relocation`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
}

impl Generator for Args {
    fn generate(&self, _seed: u64) -> Result<Quiz, String> {
        Err("this kind is not written yet".into())
    }
}
