//! Property tests of the engine against plain, deliberately naive models. No
//! server, no store: these run the engine in-process.

mod background_jobs;
mod commission_example;
mod commission_props;
mod commission_reference;
mod commission_rules;
mod commission_rules_pay;
mod commission_world;
mod downline_check_props;
mod explain_props;
mod genealogy_model;
mod genealogy_props;
mod rank_props;
mod simulation_props;
mod snapshots;
mod support;
mod team_props;
mod volume_model;
mod volume_props;
