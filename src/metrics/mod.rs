//! Prometheus metrics (issue #19): atomic histograms, the per-method gRPC
//! figures, the registry `/metrics` encodes, and its HTTP listener
//! (`serve --metrics-listen`). Every metric: docs/metrics.md.

pub mod exposition;
pub mod histogram;
pub mod listener;
pub mod rpc;
