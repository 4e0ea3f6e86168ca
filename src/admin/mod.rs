//! The read-only admin page (`serve --admin-listen`): a partner's card and
//! the runs of a period as server-rendered HTML, no script. It reads the
//! application (`crate::app`) as the gRPC services do, never the services
//! or the proto types; it changes nothing. Who may see it: `access`.
//!
//! Pages: `/` (partner search, periods), `/partners/{id}` (the card),
//! `/periods/{period}` (its runs), `/login` and `/logout`.

pub mod access;
pub mod card;
mod card_html;
pub mod error;
pub mod html;
mod login;
mod periods;
pub mod query;

use crate::app::App;
use crate::auth::Credentials;
use access::Access;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::AdminError;
use query::Params;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What every admin handler shares.
pub struct AdminState {
    /// The application the pages read. Weak: connections that outlive the
    /// listener's shutdown must not keep the store open.
    app: Weak<App>,
    /// Credentials and login sessions.
    pub access: Access,
}

impl AdminState {
    /// The application, while the server runs.
    fn app(&self) -> Result<Arc<App>, AdminError> {
        self.app.upgrade().ok_or(AdminError::App(crate::app::AppError::ShuttingDown))
    }
}

/// A running admin listener.
pub struct RunningAdmin {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningAdmin {
    /// Stops accepting, lets the requests in progress end (each is a short
    /// read) for at most `grace`, then drops the rest.
    pub async fn shutdown(self, grace: std::time::Duration) {
        let _ = self.stop.send(());
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(Err(error))) => tracing::warn!(%error, "the admin listener failed"),
            Ok(_) => {}
            Err(_) => {
                tracing::warn!("admin requests outlived the drain deadline: dropped");
                task.abort();
                let _ = task.await;
            }
        }
    }
}

/// Serves the admin page on an already-bound listener until shutdown.
/// `credentials` `None` is development mode (the caller checked that the
/// listener is loopback, `server::listener_guard`).
pub fn start(listener: TcpListener, app: Arc<App>, credentials: Option<Credentials>) -> std::io::Result<RunningAdmin> {
    let local_addr = listener.local_addr()?;
    let state = Arc::new(AdminState { app: Arc::downgrade(&app), access: Access::new(credentials) });
    let router = Router::new()
        .route("/", get(index))
        .route("/partners", get(search))
        .route("/partners/{id}", get(partner))
        .route("/periods/{period}", get(period))
        .route("/login", get(login::form).post(login::login))
        .route("/logout", post(login::logout))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(query::MAX_QUERY_BYTES))
        .with_state(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%local_addr, "serving the admin page");
    Ok(RunningAdmin { local_addr, stop, task })
}

/// The viewer of a request, logged; refused callers get the login page.
fn admit(state: &AdminState, headers: &HeaderMap, page: &str) -> Result<(), AdminError> {
    let viewer = state.access.check(headers)?;
    tracing::info!(viewer = viewer.name(), page, "admin page");
    Ok(())
}

/// `/`: the partner search and the periods.
async fn index(State(state): State<Arc<AdminState>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let shown =
        admit(&state, &headers, "index").and_then(|()| periods::index(&*state.app()?, &Params::parse(q.as_deref())?));
    shown.unwrap_or_else(IntoResponse::into_response)
}

/// `/partners?id=X`: the search form's target, a redirect to X's card.
async fn search(State(state): State<Arc<AdminState>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let found = admit(&state, &headers, "search").and_then(|()| {
        let params = Params::parse(q.as_deref())?;
        let id = params.get("id").ok_or_else(|| AdminError::bad("id", "is missing: type a partner id"))?.trim();
        crate::engine::id_index::validate_id("id", id)?;
        Ok(id.to_owned())
    });
    match found {
        Ok(id) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            // A valid id is `A-Z a-z 0-9 . _ : -` only: a valid header and path.
            if let Ok(location) = HeaderValue::from_str(&format!("/partners/{id}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(err) => err.into_response(),
    }
}

/// `/partners/{id}`: the card.
async fn partner(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let shown = async {
        admit(&state, &headers, "partner")?;
        let Path(id) = id.map_err(|err| AdminError::bad("partner_id", err.body_text()))?;
        let card = card::gather(state.app()?, id, Params::parse(q.as_deref())?).await?;
        Ok::<_, AdminError>(card_html::render(&card))
    };
    shown.await.unwrap_or_else(IntoResponse::into_response)
}

/// `/periods/{period}`: the period's runs.
async fn period(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    period: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let shown = admit(&state, &headers, "period").and_then(|()| {
        let Path(period) = period.map_err(|err| AdminError::bad("period", err.body_text()))?;
        periods::period(&*state.app()?, &period, &Params::parse(q.as_deref())?)
    });
    shown.unwrap_or_else(IntoResponse::into_response)
}

/// Any other address.
async fn not_found(uri: axum::http::Uri) -> Response {
    let path = query::truncated(uri.path()).to_owned();
    AdminError::NotFound(format!("path: no admin page at '{path}'")).into_response()
}
