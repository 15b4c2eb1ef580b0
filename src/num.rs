//! Numbers in scenario and machine files: TOML integers or strings such as `"0x1f"`,
//! `"16k"` or `"18446744073709551615"`. The parser and the serde helpers live in
//! `vmlab-common` (`vmlab_common::num`), where every crate's configuration reaches them.

pub use vmlab_common::num::*;
