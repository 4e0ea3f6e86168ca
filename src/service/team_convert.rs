//! Proto messages of `downline.v1.TeamService` to and from engine types,
//! and its page tokens.

use super::status::invalid;
use crate::engine::{Genealogy, MentorSource, MentorView, ModuleUpdate, TeamProgress, Training, TrainingModule};
use crate::proto::v1 as pb;
use tonic::Status;

/// Where a ListMentees listing stands (see `MenteeCursor`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct MenteesToken {
    /// The mentor's seq.
    #[prost(uint32, tag = "1")]
    pub mentor: u32,
    /// The lowest partner index not examined yet.
    #[prost(uint32, tag = "2")]
    pub lower: u32,
    /// The mentor's next recruit to look at (a hint), or `PartnerIx::NONE`.
    #[prost(uint32, tag = "3")]
    pub next_child: u32,
}

/// Where a ListTrainingModules or ListTrainingCompletions listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModulesToken {
    /// The partner's seq plus one for completions; 0 for modules.
    #[prost(uint32, tag = "1")]
    pub partner_plus_one: u32,
    /// The first module ordinal of the next page.
    #[prost(uint32, tag = "2")]
    pub next_module: u32,
}

/// The proto source of an engine source.
fn source_to_proto(source: MentorSource) -> pb::MentorSource {
    match source {
        MentorSource::Sponsor => pb::MentorSource::Sponsor,
        MentorSource::Assigned => pb::MentorSource::Assigned,
        MentorSource::None => pb::MentorSource::None,
    }
}

/// The proto message of a partner's mentor.
pub fn mentorship_to_proto(g: &Genealogy, view: &MentorView) -> pb::Mentorship {
    let audit = view.audit.clone().unwrap_or_default();
    pb::Mentorship {
        partner_id: g.id(view.partner_ix).to_owned(),
        mentor_id: if view.mentor_ix.is_none() { String::new() } else { g.id(view.mentor_ix).to_owned() },
        source: source_to_proto(view.source) as i32,
        assigned_by: audit.actor,
        assigned_at_unix_ms: audit.at_unix_ms,
        reason: audit.reason,
    }
}

/// The proto message of a module.
pub fn module_to_proto(m: &TrainingModule) -> pb::TrainingModule {
    pb::TrainingModule {
        module_id: m.module_id.clone(),
        title: m.title.clone(),
        link: m.link.clone(),
        prepares_for_rank: m.rank.clone(),
    }
}

/// The fields an UpdateTrainingModule replaces (AIP-134): those of the
/// mask, or all three for an empty mask or `*`.
pub fn module_update(m: &pb::TrainingModule, mask: Option<&prost_types::FieldMask>) -> Result<ModuleUpdate, Status> {
    let paths: &[String] = mask.map_or(&[], |mask| &mask.paths);
    let all = paths.is_empty() || paths.iter().any(|p| p == "*");
    let mut update = ModuleUpdate::default();
    for path in paths {
        match path.as_str() {
            "*" => {}
            "title" => update.title = Some(m.title.clone()),
            "link" => update.link = Some(m.link.clone()),
            "prepares_for_rank" => update.rank = Some(m.prepares_for_rank.clone()),
            "module_id" => return Err(invalid("update_mask", "module_id names the module and cannot change")),
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(invalid("update_mask", format!("'{shown}' is not title, link or prepares_for_rank")));
            }
        }
    }
    if all {
        update.title = Some(m.title.clone());
        update.link = Some(m.link.clone());
        update.rank = Some(m.prepares_for_rank.clone());
    }
    Ok(update)
}

/// The proto message of a team's progress, modules named by id.
pub fn progress_to_proto(partner_id: &str, training: &Training, p: &TeamProgress) -> pb::TeamProgress {
    let modules = training.modules();
    let level = |number: u32, l: &crate::engine::LevelProgress| pb::TeamLevel {
        level: number,
        partner_count: l.partners,
        active_count: l.active,
        joined_count: l.joined,
        completions: modules
            .iter()
            .zip(&l.completions)
            .map(|(m, &count)| pb::ModuleCompletionCount { module_id: m.module_id.clone(), completed_count: count })
            .collect(),
    };
    pb::TeamProgress {
        partner_id: partner_id.to_owned(),
        period: p.period.to_string(),
        max_level: p.max_level as u32,
        plan_levels: p.plan_levels as u32,
        period_has_orders: p.period_has_orders,
        levels: p.levels.iter().enumerate().map(|(i, l)| level(i as u32 + 1, l)).collect(),
        totals: Some(level(0, &p.totals)),
    }
}
