//! `downline.v1.OperationsService` (AIP-151): the recalculation jobs of
//! the application's registry (`app::jobs`) as long-running operations.

use super::status::{from_engine, invalid, job_cancelled};
use super::App;
use crate::app::jobs::{Job, JobKind, JobResult, Outcome, Progress};
use crate::app::recalc::RecalcSummary;
use crate::app::AppError;
use crate::proto::v1 as pb;
use pb::operations_service_server::OperationsService;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service over the shared [`App`].
pub struct OperationsApi {
    app: Arc<App>,
}

impl OperationsApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> OperationsApi {
        OperationsApi { app }
    }
}

#[tonic::async_trait]
impl OperationsService for OperationsApi {
    async fn get_operation(
        &self,
        request: Request<pb::GetOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let name = request.into_inner().name;
        if name.is_empty() || name.len() > 200 {
            return Err(invalid("name", "must be an operation name such as operations/recalculate-1"));
        }
        let job = self.app.jobs.get(JobKind::Recalculation, &name).ok_or_else(|| {
            AppError::NotFound(format!("name: operation '{name}' not found (operations are forgotten on restart)"))
        })?;
        Ok(Response::new(operation_to_proto(&job)))
    }

    type BackupStoreStream = super::backup::BackupStream;

    async fn backup_store(
        &self,
        _request: Request<pb::BackupStoreRequest>,
    ) -> Result<Response<Self::BackupStoreStream>, Status> {
        Ok(Response::new(super::backup::stream(&self.app)?))
    }
}

/// The proto view of a recalculation job.
pub fn operation_to_proto(job: &Job) -> pb::Operation {
    let (phase, done_count) = match &job.progress {
        Progress::Steps { phase, done } => ((*phase.lock()).to_owned(), done.load(Ordering::Acquire)),
        Progress::Run(progress) => (String::new(), progress.done.load(Ordering::Acquire)),
    };
    let result = match job.outcome() {
        Outcome::Running => None,
        Outcome::Succeeded(JobResult::Recalculation(summary)) => {
            Some(pb::operation::Result::Recalculation(recalculation_to_proto(summary)))
        }
        Outcome::Succeeded(JobResult::CommissionRun(_) | JobResult::Simulation(_)) => None,
        Outcome::Failed(err) => Some(operation_error(&from_engine(err))),
        Outcome::Cancelled => Some(operation_error(&job_cancelled(job.kind))),
    };
    pb::Operation {
        name: job.id.clone(),
        done: result.is_some(),
        progress: Some(pb::OperationProgress { phase, done_count, total_count: job.total.load(Ordering::Acquire) }),
        start_time_unix_ms: job.start_ms,
        end_time_unix_ms: job.end_ms(),
        result,
    }
}

/// An operation's error, from the status its failure maps to.
fn operation_error(status: &Status) -> pb::operation::Result {
    pb::operation::Result::Error(pb::OperationError {
        code: status.code() as i32,
        message: status.message().to_owned(),
    })
}

fn recalculation_to_proto(s: RecalcSummary) -> pb::RecalculationResult {
    pb::RecalculationResult {
        period: s.period.to_string(),
        partner_count: s.partners,
        difference_count: s.differences,
        first_difference: s.first_difference,
        rollup_ms: s.rollup_ms,
        snapshot_ms: s.snapshot_ms,
        compare_ms: s.compare_ms,
        ranks_ms: s.ranks_ms,
        prepare_ms: s.prepare_ms,
    }
}
