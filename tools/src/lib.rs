//! `downline-tools`: the programs that measure a `downline` server and the
//! machine it runs on, kept out of the server binary. They talk to the
//! server only through its public gRPC API (the generated types of the
//! `downline` library), and they hold every `unsafe` block of the project
//! (the `timerfd` clock of the open loop).

pub mod bearer;
pub mod faults;
pub mod hiccups;
pub mod loadtest;
pub mod loadtest_calls;
pub mod loadtest_clock;
pub mod loadtest_h2;
pub mod loadtest_ids;
pub mod loadtest_stats;
pub mod loadtest_team;
pub mod stall;
pub mod stall_jobs;
