//! `downline.v1.GenealogyService`: partners, downlines, uplines, moves,
//! status changes, the audit trail and bulk imports.

use super::caller::Caller;
use super::convert::{event_to_proto, partner_to_proto, status_from_proto};
use super::page_token::{DownlineToken, EventsToken, TokenSigner};
use super::status::{denied, invalid};
use super::{actor, now_unix_ms, App};
use crate::engine::{Audit, EngineError, Genealogy, NewPartner};
use crate::proto::v1 as pb;
use pb::genealogy_service_server::GenealogyService;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

/// The default page size of ListDownline, ListGenealogyEvents and the team
/// lists (the largest is `Limits::max_page_size`).
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The most sponsors one GetUpline returns.
pub const MAX_UPLINE_LEVELS: usize = 10_000;
/// The most rows one ImportPartners call takes; larger imports are split
/// by the client (the offline `downline import` has no such limit).
pub const MAX_IMPORT_ROWS: usize = 100_000;

const DOWNLINE_TOKEN: u8 = 1;
const EVENTS_TOKEN: u8 = 2;

/// The service over the shared [`App`].
pub struct GenealogyApi {
    app: Arc<App>,
}

impl GenealogyApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> GenealogyApi {
        GenealogyApi { app }
    }
}

/// The audit of a write: the caller from the metadata, now, and the reason.
pub(super) fn audit<T>(request: &Request<T>, reason: &str) -> Audit {
    Audit { actor: actor(request), reason: reason.to_owned(), at_unix_ms: now_unix_ms() }
}

#[tonic::async_trait]
impl GenealogyService for GenealogyApi {
    async fn create_partner(
        &self,
        request: Request<pb::CreatePartnerRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let audit = audit(&request, "");
        let r = request.into_inner();
        tracing::debug!(partner_id = %r.partner_id, sponsor_id = %r.sponsor_id, "create partner");
        let new = NewPartner::parse(&r.partner_id, &r.sponsor_id, &r.joined_on, &r.display_name)?;
        let view = self
            .app
            .write(move |net| {
                let outcome = net.create_partner(&new, audit)?;
                Ok((net.genealogy.view(outcome.ix), outcome.change))
            })
            .await?;
        Ok(Response::new(partner_to_proto(view)))
    }

    async fn get_partner(&self, request: Request<pb::GetPartnerRequest>) -> Result<Response<pb::Partner>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let view = self.app.read(|net| {
            let g = &net.genealogy;
            Ok::<_, Status>(g.view(caller.find(g, "partner_id", &r.partner_id)?))
        })?;
        Ok(Response::new(partner_to_proto(view)))
    }

    async fn list_downline(
        &self,
        request: Request<pb::ListDownlineRequest>,
    ) -> Result<Response<pb::ListDownlineResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let size = self.app.page_size(r.page_size, DEFAULT_PAGE_SIZE)?;
        let depth = self.app.limits.downline_depth(r.max_depth)?;
        let response = self.app.read(|net| {
            let g = &net.genealogy;
            let root = caller.find_live(g, "partner_id", &r.partner_id)?;
            let cursor = match r.page_token.as_str() {
                "" => None,
                token => {
                    let t: DownlineToken = TokenSigner::of(&self.app).decode(DOWNLINE_TOKEN, "page_token", token)?;
                    if t.root != root.get() || t.max_depth != r.max_depth {
                        return Err(invalid("page_token", "was issued for another partner_id or max_depth"));
                    }
                    if t.structure_version != g.structure_version() {
                        return Err(invalid("page_token", "is stale: a move or termination changed the genealogy since it was issued; list again from the first page"));
                    }
                    let cursor = t.cursor();
                    if !g.cursor_is_valid(root, &cursor) {
                        return Err(invalid("page_token", "is stale; list again from the first page"));
                    }
                    Some(cursor)
                }
            };
            // Every member is below `root`, which the caller may see: a
            // partner's listing never leaves its own downline.
            let page = g.downline_page(root, depth, cursor, size);
            let members = page
                .members
                .iter()
                .map(|&(ix, level)| pb::DownlineMember { level, partner: Some(partner_to_proto(g.view(ix))) })
                .collect();
            let next_page_token = page.next.map_or_else(String::new, |c| {
                TokenSigner::of(&self.app).encode(DOWNLINE_TOKEN, &DownlineToken::new(root, r.max_depth, &c, g.structure_version()))
            });
            Ok(pb::ListDownlineResponse { members, next_page_token })
        })?;
        Ok(Response::new(response))
    }

    async fn get_upline(
        &self,
        request: Request<pb::GetUplineRequest>,
    ) -> Result<Response<pb::GetUplineResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let max_levels = match r.max_levels {
            0 => MAX_UPLINE_LEVELS,
            n => (n as usize).min(MAX_UPLINE_LEVELS),
        };
        let members = self.app.read(|net| {
            let g = &net.genealogy;
            let ix = caller.find_live(g, "partner_id", &r.partner_id)?;
            // A partner's upline view stops at the partner itself.
            let max_levels = max_levels.min(caller.upline_levels_visible(g, ix));
            Ok::<_, Status>(
                g.upline(ix, max_levels)
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| pb::UplineMember { level: i as u32 + 1, partner: Some(partner_to_proto(g.view(s))) })
                    .collect(),
            )
        })?;
        Ok(Response::new(pb::GetUplineResponse { members }))
    }

    async fn move_partner(&self, request: Request<pb::MovePartnerRequest>) -> Result<Response<pb::Partner>, Status> {
        let r = request.get_ref();
        let audit = audit(&request, &r.reason);
        let r = request.into_inner();
        let view = self
            .app
            .write(move |net| {
                let outcome = net.move_partner(&r.partner_id, &r.new_sponsor_id, audit)?;
                Ok((net.genealogy.view(outcome.ix), outcome.change))
            })
            .await?;
        Ok(Response::new(partner_to_proto(view)))
    }

    async fn set_partner_status(
        &self,
        request: Request<pb::SetPartnerStatusRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let r = request.get_ref();
        let audit = audit(&request, &r.reason);
        let r = request.into_inner();
        let status = status_from_proto(r.status)
            .ok_or_else(|| invalid("status", format!("{} is not ENROLLED, SUSPENDED or TERMINATED", r.status)))?;
        let view = self
            .app
            .write(move |net| {
                let outcome = net.set_status(&r.partner_id, status, audit)?;
                Ok((net.genealogy.view(outcome.ix), outcome.change))
            })
            .await?;
        Ok(Response::new(partner_to_proto(view)))
    }

    async fn list_genealogy_events(
        &self,
        request: Request<pb::ListGenealogyEventsRequest>,
    ) -> Result<Response<pb::ListGenealogyEventsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let size = self.app.page_size(r.page_size, DEFAULT_PAGE_SIZE)?;
        let partner_ix = match r.partner_id.as_str() {
            "" if caller.is_partner() => {
                return Err(denied(
                    "partner_id",
                    "a partner token lists the events of one partner of its downline; name it",
                ))
            }
            "" => None,
            id => Some(self.app.read(|net| caller.find(&net.genealogy, "partner_id", id))?),
        };
        let partner_plus_one = partner_ix.map_or(0, |ix| ix.get() + 1);
        let after_seq = match r.page_token.as_str() {
            "" => 0,
            token => {
                let t: EventsToken = TokenSigner::of(&self.app).decode(EVENTS_TOKEN, "page_token", token)?;
                if t.partner_plus_one != partner_plus_one {
                    return Err(invalid("page_token", "was issued for another partner_id"));
                }
                t.after_seq
            }
        };
        let (events, more) = self.app.list_events(partner_ix, after_seq, size).await?;
        let next_page_token = match (more, events.last()) {
            (true, Some(&(last, _))) => {
                TokenSigner::of(&self.app).encode(EVENTS_TOKEN, &EventsToken { partner_plus_one, after_seq: last })
            }
            _ => String::new(),
        };
        let mut events: Vec<pb::GenealogyEvent> = events.into_iter().map(|(seq, e)| event_to_proto(seq, e)).collect();
        if caller.is_partner() {
            self.app.read(|net| {
                events.iter_mut().for_each(|e| redact(&caller, &net.genealogy, e));
                Ok::<_, Status>(())
            })?;
        }
        Ok(Response::new(pb::ListGenealogyEventsResponse { events, next_page_token }))
    }

    async fn import_partners(
        &self,
        request: Request<Streaming<pb::ImportPartnersRequest>>,
    ) -> Result<Response<pb::ImportPartnersResponse>, Status> {
        let audit = audit(&request, "import");
        let mut stream = request.into_inner();
        let mut rows: Vec<NewPartner> = Vec::new();
        while let Some(chunk) = stream.message().await? {
            for p in chunk.partners {
                if rows.len() == MAX_IMPORT_ROWS {
                    return Err(invalid(
                        "partners",
                        format!("more than {MAX_IMPORT_ROWS} rows in one import; split it into several calls"),
                    ));
                }
                let prefix = format!("partners[{}]", rows.len());
                let row = NewPartner::parse(&p.partner_id, &p.sponsor_id, &p.joined_on, &p.display_name)
                    .map_err(|e: EngineError| e.within(&prefix))?;
                rows.push(row);
            }
        }
        let (created, unchanged) = self
            .app
            .write(move |net| {
                let outcome = net.import(&rows).map_err(row_as_index)?;
                let count = u64::from(outcome.created.len());
                let change = (count > 0).then(|| net.genealogy.created_change(outcome.created, &audit));
                Ok(((count, outcome.unchanged), change))
            })
            .await?;
        tracing::info!(created, unchanged, "import done");
        Ok(Response::new(pb::ImportPartnersResponse { created_count: created, unchanged_count: unchanged }))
    }
}

/// The engine's bulk errors name a row (`row 3.sponsor_id`, counted from
/// 1, as the CLI prints for a file); the API names the request's field
/// path, `partners[2].sponsor_id`.
fn row_as_index(err: EngineError) -> EngineError {
    err.map_field(|field| {
        let Some(rest) = field.strip_prefix("row ") else { return field };
        let Some((row, tail)) = rest.split_once('.') else { return field };
        match row.parse::<usize>() {
            Ok(row) if row > 0 => format!("partners[{}].{tail}", row - 1),
            _ => field,
        }
    })
}

/// What a partner sees of an event of its downline: sponsors outside its
/// downline (someone it was moved from, a sponsor above it) become "", and
/// so does the actor (back-office names are internal).
fn redact(caller: &Caller, g: &Genealogy, event: &mut pb::GenealogyEvent) {
    for sponsor in [&mut event.old_sponsor_id, &mut event.new_sponsor_id] {
        let visible = g.find(sponsor).is_some_and(|ix| caller.sees(g, ix));
        if !visible {
            sponsor.clear();
        }
    }
    event.actor.clear();
}
