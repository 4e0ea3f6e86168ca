//! The partner ids a load test picks from: the first column of a
//! partners.csv (`--ids-from`), or `--root` and its downline listed
//! breadth-first through ListDownline. One of the two is required, and a
//! root the target does not have stops the run before anything is sent.

use crate::bearer::Bearer;
use crate::loadtest::LoadtestArgs;
use downline::proto::v1 as pb;
use pb::genealogy_service_client::GenealogyServiceClient;
use std::io::{BufRead, BufReader};
use std::path::Path;
use tonic::transport::Endpoint;

/// The refusal of a run that names no source of partner ids.
pub const NO_IDS: &str =
    "pass --root ID (an existing partner whose downline supplies the ids) or --ids-from partners.csv";

/// The existing ids requests pick from.
pub async fn load_ids(args: &LoadtestArgs) -> Result<Vec<String>, String> {
    let ids = match &args.ids_from {
        Some(path) => read_ids(path)?,
        None => list_ids(args).await?,
    };
    if ids.is_empty() {
        return Err("no partner ids to send requests for".into());
    }
    Ok(ids)
}

/// The first column of every row of a partners.csv.
fn read_ids(path: &Path) -> Result<Vec<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut ids = Vec::new();
    for (n, line) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let id = line.split(',').next().unwrap_or("").trim();
        if n > 0 && !id.is_empty() {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// `--root` and up to `--max-ids` partners of its downline, breadth-first.
async fn list_ids(args: &LoadtestArgs) -> Result<Vec<String>, String> {
    let channel = Endpoint::from_shared(args.target.clone())
        .map_err(|e| format!("--target {}: {e}", args.target))?
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.target))?;
    let Some(root) = &args.root else {
        return Err(NO_IDS.into());
    };
    let mut client = GenealogyServiceClient::with_interceptor(channel, Bearer::new(args.token.as_deref())?);
    let mut ids = vec![root.clone()];
    let mut page_token = String::new();
    while ids.len() < args.max_ids {
        let request = pb::ListDownlineRequest {
            partner_id: root.clone(),
            max_depth: 0,
            page_size: (args.max_ids - ids.len()).min(1000) as i32,
            page_token,
        };
        let page = client.list_downline(request).await.map_err(|s| listing_failed(args, root, &s))?.into_inner();
        ids.extend(page.members.into_iter().filter_map(|m| m.partner).map(|p| p.partner_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(ids)
}

/// Why listing `root`'s downline failed, in the user's terms.
fn listing_failed(args: &LoadtestArgs, root: &str, status: &tonic::Status) -> String {
    if status.code() == tonic::Code::NotFound {
        return format!(
            "partner '{root}' does not exist on the target {}; pass --root with an existing id, or --ids-from partners.csv",
            args.target
        );
    }
    format!("listing the downline of '{root}': {:?}: {}", status.code(), status.message())
}
