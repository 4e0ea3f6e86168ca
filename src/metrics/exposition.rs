//! What `/metrics` shows: the registry of every figure (docs/metrics.md
//! lists them). Counters and histograms are recorded where things happen
//! (requests, flushes, jobs); gauges of the network (partners, orders of
//! each open period, memory, jobs running) are read from the application
//! at scrape time. The registry holds the application weakly, so a
//! listener that outlives the server keeps no store open.

use super::histogram::AtomicHistogram;
use super::rpc::RpcMetrics;
use crate::app::jobs::JobKind;
use crate::app::App;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::sync::{Arc, Weak};

/// The label of a background job's kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The label of an open period.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeriodLabel {
    period: String,
}

/// The registry of a server: its calls, its store, its jobs and its network.
pub fn registry(app: &Arc<App>, rpc: &Arc<RpcMetrics>) -> Registry {
    let mut registry = Registry::default();
    registry.register("downline_rpc_requests", "gRPC calls answered, by method and status code", rpc.requests.clone());
    registry.register_with_unit(
        "downline_rpc_duration",
        "gRPC call latency, from the request's arrival to its last answer frame, by method",
        Unit::Seconds,
        rpc.durations.clone(),
    );
    let (flush, group) = app.store.flush_histograms();
    registry.register_with_unit("downline_store_flush_duration", "sled flush (fsync) latency", Unit::Seconds, flush);
    registry.register(
        "downline_store_flush_group_writes",
        "writes made durable by one flush (the group commit's group size)",
        group,
    );
    registry.register_with_unit(
        "downline_job_duration",
        "background job run time, from start to its end (success, failure or cancellation), by kind",
        Unit::Seconds,
        job_durations(app),
    );
    registry.register_collector(Box::new(AppGauges { app: Arc::downgrade(app) }));
    registry
}

/// One series a job kind, each the histogram its jobs observe into (a
/// family would make its own histograms; these are the registry's).
fn job_durations(app: &App) -> JobDurations {
    JobDurations(
        JobKind::ALL.iter().map(|&kind| (KindLabel { kind: kind.label() }, app.jobs.durations(kind))).collect(),
    )
}

/// The job duration histograms, one series a kind.
#[derive(Debug)]
struct JobDurations(Vec<(KindLabel, AtomicHistogram)>);

impl prometheus_client::metrics::TypedMetric for JobDurations {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for JobDurations {
    fn encode(&self, mut encoder: prometheus_client::encoding::MetricEncoder) -> Result<(), std::fmt::Error> {
        for (label, histogram) in &self.0 {
            histogram.encode(encoder.encode_family(label)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The gauges read from the application at each scrape.
#[derive(Debug)]
struct AppGauges {
    app: Weak<App>,
}

impl Collector for AppGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(app) = self.app.upgrade() else {
            return Ok(());
        };
        // One short read lock: counts and the columns' chunk sizes, O(chunks).
        let (partners, periods, bytes) = {
            let net = app.network.read();
            let open: Vec<_> = net.periods().into_iter().filter(|&(_, closed, _)| !closed).collect();
            (net.genealogy.len(), open, net.bytes())
        };
        let gauge = |encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64| {
            ConstGauge::new(value as i64).encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)
        };
        gauge(&mut encoder, "downline_partners", "partners in the genealogy, every status", partners as u64)?;
        let mut orders = encoder.encode_descriptor(
            "downline_period_orders",
            "orders (adjustments included) recorded in each open period",
            None,
            MetricType::Gauge,
        )?;
        for (period, _, count) in periods {
            ConstGauge::new(count as i64).encode(orders.encode_family(&PeriodLabel { period: period.to_string() })?)?;
        }
        let network_bytes = (bytes.owned_bytes + bytes.shared_bytes) as u64;
        gauge(&mut encoder, "downline_network_memory_bytes", "bytes of the network's columns and maps", network_bytes)?;
        let (limit, reserved) = app.jobs.budget_bytes();
        gauge(&mut encoder, "downline_job_memory_limit_bytes", "the job memory budget (--job-memory-mb)", limit)?;
        gauge(&mut encoder, "downline_job_memory_reserved_bytes", "bytes of the job budget reserved now", reserved)?;
        let running = app.jobs.running();
        let mut jobs = encoder.encode_descriptor(
            "downline_jobs_running",
            "background jobs running, by kind",
            None,
            MetricType::Gauge,
        )?;
        for kind in JobKind::ALL {
            let count = running.iter().filter(|job| job.kind == kind).count();
            ConstGauge::new(count as i64).encode(jobs.encode_family(&KindLabel { kind: kind.label() })?)?;
        }
        Ok(())
    }
}
