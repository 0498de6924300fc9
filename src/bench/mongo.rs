//! MongoDB hot paths — HOOK, not built yet. The MongoDB data plane is not on this branch;
//! when it lands behind the `mongo` feature, this group runs the same hot paths through the
//! Mongo repositories against the same operations written directly with the driver (same
//! client), as [`super::hot`] does for SQL. Until then the table says `mongo: not built`.

use super::{BenchOptions, Row, Unit};

/// The Mongo rows: one line saying whether the group is built.
pub async fn run(_opts: &BenchOptions) -> Vec<Row> {
    let note = if cfg!(feature = "mongo") {
        "mongo feature on, but the Mongo hot paths are not wired yet (src/bench/mongo.rs)"
    } else {
        "not built (the `mongo` feature is off)"
    };
    vec![Row::new("hot (all)", "mongo", Unit::Count, f64::NAN).note(note)]
}
