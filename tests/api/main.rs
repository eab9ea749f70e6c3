//! Black-box tests: the real server over HTTP against a real database file (or a
//! SQL Server database when `PATCHES_TEST_MSSQL` is set). One binary, one link step.

mod auth;
mod concurrency;
mod docs;
mod export;
mod hardening;
mod helpers;
mod history;
mod import;
mod odata;
mod odata_properties;
mod patches;
mod properties;
mod responsible_entities;
mod service;
mod sql_catalog;
mod store_contract;
