//! The application between the transport and the engine: the shared
//! state, its read and write paths, the background jobs and the limits.

pub mod jobs;
pub mod limits;
pub mod runs;
