//! Tests of the tools through their real binary, or their library against
//! a real `downline` server started in-process on 127.0.0.1:0.
//!
//! The server harness and the helpers are the very modules of the server's
//! API tests (`tests/api`), included by path rather than copied.

#[allow(dead_code)] // shared with tests/api: these tests call a few of its helpers
#[path = "../../../tests/api/auth_support.rs"]
mod auth_support;
#[allow(dead_code)] // shared with tests/api, as above
#[path = "../../../tests/api/details_support.rs"]
mod details_support;
#[allow(dead_code)] // shared with tests/api, as above
#[path = "../../../tests/api/genealogy_support.rs"]
mod genealogy_support;
#[allow(dead_code)] // shared with tests/api, as above
#[path = "../../../tests/api/harness.rs"]
mod harness;
#[path = "../../../tests/api/pipe_support.rs"]
mod pipe_support;
#[allow(dead_code)] // shared with tests/api, as above
#[path = "../../../tests/api/volume_support.rs"]
mod volume_support;

mod hiccups_cli;
mod loadtest_cli;
mod stall_cli;
mod stdout_cli;
