//! Property tests of the engine against plain, deliberately naive models. No
//! server, no store: these run the engine in-process.

mod support;

mod genealogy_props;
mod team_props;
mod volume_props;
