//! The HTML of a partner's card: identity, upline path, the period
//! selector, volumes per level, rank progress and the statement. Figures
//! are formatted as the gRPC API formats them, so they read the same.

use super::card::{Card, MAX_UPLINE_SHOWN};
use super::error::AdminError;
use super::html::{entry, escape, header_row, row, Page};
use crate::app::runs::RunStatement;
use crate::engine::money::format_units;
use crate::engine::{format_cents, format_rate, format_scaled};
use crate::engine::{LineKind, PartnerStatus, PartnerView, Period, Plan, RankProgress, RequirementKind, VolumeView};
use axum::http::StatusCode;
use axum::response::Response;
use std::fmt::Write as _;

/// The card as a page.
pub fn render(card: &Card) -> Response {
    let p = &card.partner;
    let mut page = Page::new(&format!("Partner {}", p.partner_id));
    page.push(&identity(p));
    page.heading(2, "Upline");
    page.push(&upline(&card.upline, p.depth as usize));
    page.push(&selector(card));
    let volumes_title = card.volume_period.map_or("Volumes".to_owned(), |period| format!("Volumes in {period}"));
    page.heading(2, &volumes_title);
    page.push(&section(&card.volumes, volumes));
    page.heading(2, "Rank progress");
    page.push(&section(&card.progress, |(progress, plan)| rank_progress(progress, plan)));
    let statement_title =
        card.statement_period.map_or("Statement".to_owned(), |period| format!("Statement of {period}"));
    page.heading(2, &statement_title);
    page.push(&section(&card.statement, statement));
    page.respond(StatusCode::OK)
}

/// A section, or why it cannot be shown.
fn section<T>(part: &Result<T, AdminError>, show: impl Fn(&T) -> String) -> String {
    match part {
        Ok(value) => show(value),
        Err(err) => format!("<p class=\"err\">{}</p>", escape(&err.to_string())),
    }
}

/// A link to a partner's card; ids are `A-Z a-z 0-9 . _ : -` only, so
/// they need no percent-encoding (escaped anyway).
pub fn partner_link(id: &str) -> String {
    let id = escape(id);
    format!("<a href=\"/partners/{id}\">{id}</a>")
}

fn status_name(status: PartnerStatus) -> &'static str {
    match status {
        PartnerStatus::Enrolled => "enrolled",
        PartnerStatus::Suspended => "suspended",
        PartnerStatus::Terminated => "terminated",
    }
}

fn identity(p: &PartnerView) -> String {
    let sponsor = if p.sponsor_id.is_empty() { "(a root)".to_owned() } else { partner_link(&p.sponsor_id) };
    let entries = [
        entry("partner-id", "Partner", &escape(&p.partner_id)),
        entry("display-name", "Name", &escape(&p.display_name)),
        entry("status", "Status", status_name(p.status)),
        entry("sponsor", "Sponsor", &sponsor),
        entry("joined-on", "Joined on", &p.joined_on.to_string()),
        entry("depth", "Depth", &p.depth.to_string()),
        entry("frontline", "Frontline", &p.frontline_count.to_string()),
        entry("downline", "Downline", &p.downline_count.to_string()),
    ];
    format!("<dl>{}</dl>", entries.concat())
}

fn upline(members: &[PartnerView], depth: usize) -> String {
    if members.is_empty() {
        return "<p class=\"muted\" id=\"upline\">No upline: a root, or terminated.</p>".to_owned();
    }
    let mut out = "<ol id=\"upline\">".to_owned();
    for m in members {
        let _ = write!(out, "<li>{} {}</li>", partner_link(&m.partner_id), escape(&m.display_name));
    }
    out.push_str("</ol>");
    if depth > members.len() {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more levels up to the root are not shown (at most {MAX_UPLINE_SHOWN}).</p>",
            depth - members.len()
        );
    }
    out
}

/// The period selector: a plain GET form, no script.
fn selector(card: &Card) -> String {
    let options = |chosen: Option<Period>, only_closed: bool| {
        let mut out = String::new();
        for &(period, closed, _) in card.periods.iter().rev().filter(|p| p.1 || !only_closed) {
            let selected = if Some(period) == chosen { " selected" } else { "" };
            let state = if closed { "closed" } else { "open" };
            let _ = write!(out, "<option value=\"{period}\"{selected}>{period} ({state})</option>");
        }
        out
    };
    format!(
        "<form method=\"get\" action=\"/partners/{id}\"><label>Volumes of <select name=\"period\">{volumes}</select>\
         </label> <label>Statement of <select name=\"statement\">{statements}</select></label> \
         <button>Show</button></form>",
        id = escape(&card.partner.partner_id),
        volumes = options(card.volume_period, false),
        statements = options(card.statement_period, true),
    )
}

fn units(value: i64) -> String {
    format_units(i128::from(value))
}

fn volumes(v: &VolumeView) -> String {
    let entries = [
        entry("pv", "PV", &units(v.pv_units)),
        entry("rv", "RV", &units(v.rv_units)),
        entry("gv", "GV", &units(v.gv_units)),
        entry("level-capped", "Level-capped volume", &format_units(v.level_capped_units())),
        entry("active", "Active", if v.active { "yes" } else { "no" }),
        entry("frontline-count", "Frontline", &v.frontline.to_string()),
        entry("active-frontline", "Active frontline", &v.active_frontline.to_string()),
    ];
    let mut out = format!("<dl>{}</dl><table id=\"levels\">", entries.concat());
    out.push_str(&header_row(&["Level", "Volume", "Partners", "Active"]));
    for (k, level) in v.levels.iter().enumerate() {
        let cells =
            [(k + 1).to_string(), units(level.volume_units), level.partners.to_string(), level.active.to_string()];
        out.push_str(&row(&format!("level-{}", k + 1), &cells));
    }
    out.push_str("</table>");
    out
}

/// A rank's name by code (0: none), as the API names it.
fn rank_name(plan: &Plan, code: u8) -> String {
    match usize::from(code).checked_sub(1).and_then(|i| plan.ranks.get(i)) {
        Some(rank) => escape(&rank.name),
        None => "(none)".to_owned(),
    }
}

fn rank_progress(progress: &RankProgress, plan: &Plan) -> String {
    let next = match &progress.next {
        None => "(the top rank)".to_owned(),
        Some(target) => rank_name(plan, u8::try_from(target.rank + 1).unwrap_or(u8::MAX)),
    };
    let entries =
        [entry("paid-as", "Paid as", &rank_name(plan, progress.paid_as)), entry("next-rank", "Next rank", &next)];
    let mut out = format!("<dl>{}</dl>", entries.concat());
    let Some(target) = &progress.next else { return out };
    out.push_str("<table id=\"requirements\">");
    out.push_str(&header_row(&["Requirement", "Current", "Required", "Missing", "Met"]));
    for r in &target.requirements {
        let (name, text): (String, fn(i128) -> String) = match r.kind {
            RequirementKind::Active => ("active".into(), |v| v.to_string()),
            RequirementKind::MinPv => ("minimum PV".into(), format_units),
            RequirementKind::MinQualifyingGv => ("qualifying GV".into(), format_scaled),
            RequirementKind::Legs { leg_min_rank } => {
                (format!("legs with a {}", rank_name(plan, u8::try_from(leg_min_rank + 1).unwrap_or(u8::MAX))), |v| {
                    v.to_string()
                })
            }
        };
        let met = if r.met { "yes" } else { "no" }.to_owned();
        out.push_str(&row("", &[name, text(r.current), text(r.required), text(r.missing()), met]));
    }
    out.push_str("</table>");
    out
}

fn statement(s: &RunStatement) -> String {
    let entries = [
        entry("statement-run", "Run", &escape(&s.run_id)),
        entry("statement-rank", "Paid as", &rank_name(&s.plan, s.statement.rank)),
        entry("statement-active", "Active", if s.statement.active { "yes" } else { "no" }),
        entry("payable", "Payable", &format_cents(i128::from(s.statement.payable_cents))),
    ];
    let mut out = format!("<dl>{}</dl><table id=\"lines\">", entries.concat());
    out.push_str(&header_row(&["Line", "Volume", "Rate", "Amount"]));
    for (i, line) in s.statement.lines.iter().enumerate() {
        let (name, computed) = match line.kind {
            LineKind::Retail => ("retail".to_owned(), true),
            LineKind::Level(k) => (format!("level {k}"), true),
            LineKind::PartnerCap => ("partner cap".to_owned(), false),
            LineKind::PayoutCap => ("payout cap".to_owned(), false),
            LineKind::Rounding => ("rounding".to_owned(), false),
        };
        let (volume, rate) = if computed {
            (units(line.base_units), format_rate(line.rate_ppm))
        } else {
            (String::new(), String::new())
        };
        out.push_str(&row(&format!("line-{}", i + 1), &[name, volume, rate, format_scaled(line.amount_scaled)]));
    }
    out.push_str("</table>");
    out
}
