//! patches: the single source of truth for housing patches and areas.
//!
//! Data flows one way: [`api`] (HTTP) → [`domain`] (types and rules) →
//! [`store`] (one trait, SQLite and SQL Server) → named SQL in `sql/` and `views/`.

pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod domain;
pub mod export;
pub mod import;
pub mod metrics;
pub mod odata;
pub mod seed;

pub mod startup;
pub mod store;
pub mod telemetry;
