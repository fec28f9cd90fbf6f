//! Integration tests of the origin over HTTP, each scenario against SQLite, PostgreSQL, and
//! PostgreSQL + Redis (pure HTTP behaviour such as CORS: SQLite only). Needs the PostgreSQL server
//! of TEST_DATABASE_URL
//! (default postgres://postgres@127.0.0.1:5432/test) and the Redis of TEST_REDIS_URL
//! (default redis://127.0.0.1:6379); a test fails, naming the server, when one cannot be reached.

mod helpers;

mod access;

mod audit;
mod binary;
mod cache;
mod cluster;
mod console;
mod content_type;
mod contexts;
mod cors;
mod evaluate;
mod flags;
mod health;
mod if_match;
mod kill_switch;
mod metrics;
mod metrics_docs;
mod migration;
mod numbers;
mod ofrep;
mod openapi;
mod property;
mod push;
mod queries;
mod random_doubles;
mod references;
mod segments;
mod server;
mod signing;
mod snapshot;
mod stream;
mod strict_bodies;
mod traces;
mod unreadable;
mod usage;
mod vectors;
