//! FS ⇄ global database: `sync export` and `sync import`.
