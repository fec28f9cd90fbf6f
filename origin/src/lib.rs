//! Pennon's origin service: the admin API and audit log over PostgreSQL or SQLite, a Redis (or
//! in-process) cache-aside of each environment's flag set, and `POST /api/evaluate` on the
//! evaluator's compiled flag sets.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod admin;
mod app;
pub mod cache;
pub mod change;
mod config;
pub mod contexts;
mod demo;
pub mod flagset;
mod http;
pub mod invalidation;
pub mod metrics;
pub mod push;
pub mod revision;
pub mod signing;
pub mod store;
pub mod stream;
pub mod tokens;
pub mod traces;
pub mod usage;

pub use app::{shutdown_signal, App, StartError};
pub use config::{
    Config, ConfigError, DatabaseUrl, EdgePushTarget, HttpLimits, PushCa, PushUrl, Rate,
    RateLimits, Secret, Signing, SigningSeed, StreamLimits,
};
pub use http::state::AppState;
