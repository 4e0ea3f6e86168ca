//! Property tests of the engine against plain, deliberately naive models. No
//! server, no store: these run the engine in-process.

mod downline_check_props;
mod genealogy_props;
mod volume_props;
