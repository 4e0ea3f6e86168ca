//! Measures what durable commission runs cost (issue #17) on a copy of a
//! data directory: a run's storing (figures written and flushed, from the
//! job's log line `store_ms`) and the start-up with and without stored
//! runs (the whole `recovery::open`, and the restore of the runs alone).
//!
//! `cargo run --release --example run_restore_cost -- DATA_DIR PERIOD`
//! (DATA_DIR is changed: use a copy). A measurement, not a test.

use downline::app::limits::Limits;
use downline::app::recovery;
use downline::engine::Period;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("a data directory (a copy)"));
    let period = Period::parse("period", &args.next().expect("a period")).expect("YYYY-MM");
    let started = Instant::now();
    let app = recovery::open(&dir, Limits::default()).await.expect("the directory opens");
    println!("start-up without stored runs: {} ms", started.elapsed().as_millis());
    let flusher = app.store.spawn_flusher();
    for dry_run in [true, false] {
        let begun = Instant::now();
        let job = app.start_commission_run(period, dry_run).await.expect("a run starts");
        while job.is_running() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(job.run_result().is_some(), "the run succeeded");
        println!("run (dry {dry_run}) done and stored in {} ms", begun.elapsed().as_millis());
    }
    app.store.flush().expect("a flush");
    flusher.abort();
    drop(app);
    let started = Instant::now();
    let app = recovery::open(&dir, Limits::default()).await.expect("the directory opens again");
    println!("start-up with 2 stored runs: {} ms", started.elapsed().as_millis());
    let restoring = Instant::now();
    let runs = app.restore_runs().expect("the runs read again");
    println!("restoring the {runs} runs alone: {} ms", restoring.elapsed().as_millis());
}
