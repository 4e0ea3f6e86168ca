//! Integration tests through the real gRPC API: every module starts real
//! servers on 127.0.0.1:0 (or spawns the `downline` binary) and talks to them
//! with tonic clients.
//!
//! One test binary instead of one per file: each binary links tonic, sled and
//! the whole crate in release mode, and linking them one by one dominated the
//! time of a CI run.

mod admin_support;
mod auth_support;
mod compensation_api;
mod crash_support;
mod details_support;
mod genealogy_support;
mod harness;
mod pipe_support;
mod team_support;
mod volume_support;

mod adjustments;
mod admin_browser;
mod admin_cli;
mod admin_page;
mod auth_cli;
mod auth_credentials;
mod auth_fuzz;
mod auth_fuzz_gen;
mod auth_limits;
mod auth_matrix;
mod auth_matrix_reads;
mod auth_table;
mod auth_tls;
mod backup_restore;
mod cli_stdout;
mod crash;
mod crash_orders;
mod crash_runs;
mod damage_cli;
mod export_api;
mod export_cli;
mod fail_stop;
mod genealogy_api;
mod genealogy_deep_chain;
mod genealogy_errors;
mod genealogy_restart;
mod genealogy_writes;
mod import_cli;
mod import_csv_cli;
mod import_interrupt;
mod jobs_api;
mod jwt_script;
mod metrics_api;
mod mobile_app;
mod otlp_traces;
mod payout_cap;
mod plan_mask;
mod plan_rerank;
mod python_client;
mod reflection_health;
mod rpc_log_cli;
mod run_restart;
mod serve_cli;
mod serve_start_cli;
mod shutdown_drain;
mod simulation_api;
mod stream_limits;
mod synth_cli;
mod team_api;
mod team_errors;
mod team_layout;
mod team_layout_rebuild;
mod team_restart;
mod text_rule;
mod volume_api;
mod volume_errors;
mod volume_restart;
