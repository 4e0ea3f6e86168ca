//! `downline`: the genealogy and commission engine of a sales network,
//! served over gRPC. See ARCHITECTURE.md for the map.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cli;
pub mod engine;
pub mod metrics;
pub mod proto;
pub mod server;
pub mod service;
pub mod store;
pub mod synth;
