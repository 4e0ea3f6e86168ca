//! `downline.v1.TeamService`: mentors, training modules and completions,
//! and team progress.

use super::caller::Caller;
use super::genealogy::{audit, DEFAULT_PAGE_SIZE};
use super::page_token::TokenSigner;
use super::status::invalid;
use super::team_convert::{
    mentorship_to_proto, module_to_proto, module_update, progress_to_proto, MenteesToken, ModulesToken,
};
use super::{now_unix_ms, App};
use crate::app::team_progress::TeamProgressQuery;
use crate::engine::{Date, MenteeCursor, PartnerIx, TrainingModule};
use crate::proto::v1 as pb;
use pb::team_service_server::TeamService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

// Page token kinds; genealogy.rs uses 1 (downline) and 2 (events).
const MENTEES_TOKEN: u8 = 3;
const MODULES_TOKEN: u8 = 4;
const COMPLETIONS_TOKEN: u8 = 5;

/// The service over the shared [`App`].
pub struct TeamApi {
    app: Arc<App>,
}

impl TeamApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> TeamApi {
        TeamApi { app }
    }
}

/// Today in UTC, for the "not in the future" check of completions.
fn today_utc() -> Date {
    Date::from_days(now_unix_ms().div_euclid(86_400_000) as i32)
}

/// The ordinal a module listing resumes at, from its token.
fn resume_at(app: &App, kind: u8, token: &str, partner_plus_one: u32) -> Result<u32, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    let t: ModulesToken = TokenSigner::of(app).decode(kind, "page_token", token)?;
    if t.partner_plus_one != partner_plus_one {
        return Err(invalid("page_token", "was issued for another partner_id"));
    }
    Ok(t.next_module)
}

#[tonic::async_trait]
impl TeamService for TeamApi {
    async fn assign_mentor(
        &self,
        request: Request<pb::AssignMentorRequest>,
    ) -> Result<Response<pb::Mentorship>, Status> {
        let audit = audit(&request, &request.get_ref().reason);
        let r = request.into_inner();
        let mentorship = self
            .app
            .write(move |net| {
                let (view, change) = net.assign_mentor(&r.partner_id, &r.mentor_id, audit)?;
                Ok((mentorship_to_proto(&net.genealogy, &view), change))
            })
            .await?;
        Ok(Response::new(mentorship))
    }

    async fn get_mentor(&self, request: Request<pb::GetMentorRequest>) -> Result<Response<pb::Mentorship>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        caller.check_self("partner_id", &r.partner_id)?;
        let mentorship =
            self.app.read(|net| Ok::<_, Status>(mentorship_to_proto(&net.genealogy, &net.mentor(&r.partner_id)?)))?;
        Ok(Response::new(mentorship))
    }

    async fn list_mentees(
        &self,
        request: Request<pb::ListMenteesRequest>,
    ) -> Result<Response<pb::ListMenteesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let size = self.app.page_size(r.page_size, DEFAULT_PAGE_SIZE)?;
        let response = self.app.read(|net| {
            let g = &net.genealogy;
            let mentor = caller.find_live(g, "mentor_id", &r.mentor_id)?;
            let cursor = match r.page_token.as_str() {
                "" => None,
                token => {
                    let t: MenteesToken = TokenSigner::of(&self.app).decode(MENTEES_TOKEN, "page_token", token)?;
                    if t.mentor != mentor.get() {
                        return Err(invalid("page_token", "was issued for another mentor_id"));
                    }
                    // Signed, so ours; still never index past the arena with it.
                    let hint = PartnerIx::new(t.next_child);
                    let hint = if hint.is_none() || hint.as_usize() < g.len() { hint } else { PartnerIx::NONE };
                    Some(MenteeCursor { lower: t.lower, next_child_ix: hint })
                }
            };
            let page = net.mentees(mentor, cursor, size);
            let mentees = page
                .mentees
                .iter()
                .map(|&y| {
                    let mut m = mentorship_to_proto(g, &net.team.mentors.view(g, y));
                    if caller.is_partner() {
                        // Who assigned is a back office's name: not for the app.
                        m.assigned_by.clear();
                    }
                    m
                })
                .collect();
            let next_page_token = page.next.map_or_else(String::new, |c| {
                let token = MenteesToken { mentor: mentor.get(), lower: c.lower, next_child: c.next_child_ix.get() };
                TokenSigner::of(&self.app).encode(MENTEES_TOKEN, &token)
            });
            Ok(pb::ListMenteesResponse { mentees, next_page_token })
        })?;
        Ok(Response::new(response))
    }

    async fn create_training_module(
        &self,
        request: Request<pb::CreateTrainingModuleRequest>,
    ) -> Result<Response<pb::TrainingModule>, Status> {
        let m = request.into_inner().module.ok_or_else(|| invalid("module", "is missing"))?;
        let module = TrainingModule::parse(&m.module_id, &m.title, &m.link, &m.prepares_for_rank)?;
        let stored = self
            .app
            .write(move |net| {
                let (ordinal, change) = net.create_module(module)?;
                Ok((module_to_proto(&net.team.training.modules()[ordinal as usize]), change))
            })
            .await?;
        Ok(Response::new(stored))
    }

    async fn update_training_module(
        &self,
        request: Request<pb::UpdateTrainingModuleRequest>,
    ) -> Result<Response<pb::TrainingModule>, Status> {
        let r = request.into_inner();
        let m = r.module.ok_or_else(|| invalid("module", "is missing"))?;
        let update = module_update(&m, r.update_mask.as_ref())?;
        let stored = self
            .app
            .write(move |net| {
                let (ordinal, change) = net.update_module(&m.module_id, &update)?;
                Ok((module_to_proto(&net.team.training.modules()[ordinal as usize]), change))
            })
            .await?;
        Ok(Response::new(stored))
    }

    async fn list_training_modules(
        &self,
        request: Request<pb::ListTrainingModulesRequest>,
    ) -> Result<Response<pb::ListTrainingModulesResponse>, Status> {
        let r = request.into_inner();
        let size = self.app.page_size(r.page_size, DEFAULT_PAGE_SIZE)?;
        let first = resume_at(&self.app, MODULES_TOKEN, &r.page_token, 0)? as usize;
        let response = self.app.read(|net| {
            let all = net.team.training.modules();
            let end = all.len().min(first.saturating_add(size));
            let modules = all.get(first..end).unwrap_or_default().iter().map(module_to_proto).collect();
            let next_page_token = if end < all.len() {
                TokenSigner::of(&self.app)
                    .encode(MODULES_TOKEN, &ModulesToken { partner_plus_one: 0, next_module: end as u32 })
            } else {
                String::new()
            };
            Ok::<_, Status>(pb::ListTrainingModulesResponse { modules, next_page_token })
        })?;
        Ok(Response::new(response))
    }

    async fn record_training_completion(
        &self,
        request: Request<pb::RecordTrainingCompletionRequest>,
    ) -> Result<Response<pb::TrainingCompletion>, Status> {
        let r = request.into_inner();
        let today = today_utc();
        let completion = self
            .app
            .write(move |net| {
                let (c, _, change) = net.record_completion(&r.partner_id, &r.module_id, &r.completed_on, today)?;
                let answer = pb::TrainingCompletion {
                    partner_id: r.partner_id,
                    module_id: r.module_id,
                    completed_on: c.completed_on.to_string(),
                };
                Ok((answer, change))
            })
            .await?;
        Ok(Response::new(completion))
    }

    async fn list_training_completions(
        &self,
        request: Request<pb::ListTrainingCompletionsRequest>,
    ) -> Result<Response<pb::ListTrainingCompletionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let size = self.app.page_size(r.page_size, DEFAULT_PAGE_SIZE)?;
        let response = self.app.read(|net| {
            let ix = caller.find(&net.genealogy, "partner_id", &r.partner_id)?;
            let partner_plus_one = ix.get() + 1;
            let next = resume_at(&self.app, COMPLETIONS_TOKEN, &r.page_token, partner_plus_one)?;
            let training = &net.team.training;
            let all = training.completions_of(ix);
            let first = all.partition_point(|c| c.module < next);
            let end = all.len().min(first.saturating_add(size));
            let completions = all[first..end]
                .iter()
                .map(|c| pb::TrainingCompletion {
                    partner_id: r.partner_id.clone(),
                    module_id: training.modules()[c.module as usize].module_id.clone(),
                    completed_on: c.completed_on.to_string(),
                })
                .collect();
            // Resume after the last module listed, so a completion recorded
            // meanwhile of a later-listed module is not skipped.
            let next_page_token = match (all.get(end), end.checked_sub(1).and_then(|l| all.get(l))) {
                (Some(_), Some(last)) => {
                    let token = ModulesToken { partner_plus_one, next_module: last.module + 1 };
                    TokenSigner::of(&self.app).encode(COMPLETIONS_TOKEN, &token)
                }
                _ => String::new(),
            };
            Ok::<_, Status>(pb::ListTrainingCompletionsResponse { completions, next_page_token })
        })?;
        Ok(Response::new(response))
    }

    async fn get_team_progress(
        &self,
        request: Request<pb::GetTeamProgressRequest>,
    ) -> Result<Response<pb::TeamProgress>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        self.app.read(|net| caller.check(&net.genealogy, "partner_id", &r.partner_id))?;
        let partner_id = r.partner_id.clone();
        let query = TeamProgressQuery { partner_id: r.partner_id, period: r.period, max_level: r.max_level };
        let progress = self
            .app
            .team_progress(query, move |net, progress| progress_to_proto(&partner_id, &net.team.training, progress))
            .await?;
        Ok(Response::new(progress))
    }
}
