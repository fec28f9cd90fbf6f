//! Pennon's edge worker: answers `POST /api/evaluate` exactly as the origin does, from a snapshot of
//! the environment's flags and segments that it fetches from the origin and keeps in the isolate.
//!
//! The modules `api`, `cache`, `config`, `hub_state`, `pointer`, `signing`, `snapshot` and `usage` are
//! plain Rust, built and tested on the host too; the Workers glue (`entry`, `hub`, `last_good`,
//! `pointer_cache`, `report`, `sync`) exists only in the wasm32 build.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod cache;
pub mod config;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod hub;
pub mod hub_state;
#[cfg(target_arch = "wasm32")]
mod last_good;
pub mod pointer;
#[cfg(target_arch = "wasm32")]
mod pointer_cache;
#[cfg(target_arch = "wasm32")]
mod report;
pub mod signing;
pub mod snapshot;
#[cfg(target_arch = "wasm32")]
mod sync;
pub mod usage;
