//! The admin page (`serve --admin-listen`) over real HTTP against a real
//! server: the card's figures equal the gRPC answers (GetVolumes of an open
//! and of a closed period, GetStatement of the official run), a period's
//! runs, escaping, precise 400/404 pages, and who may see it (401 without
//! an admin key, 403 for a backend key, login cookie, logout).

use crate::admin_support::{example_with_closed_period, get, http, Answer, CLOSED, OPEN};
use crate::auth_support::Secured;
use crate::compensation_api::statement;
use crate::harness::Harness;
use crate::volume_support::volumes_ok;
use base64::Engine as _;
use downline::proto::v1 as pb;
use downline::server::{self, Security, ServerConfig};

/// Asserts the card shows GetVolumes's answer, level by level.
#[track_caller]
fn assert_volumes(card: &Answer, want: &pb::Volumes) {
    assert_eq!(card.by_id("pv"), want.pv);
    assert_eq!(card.by_id("rv"), want.rv);
    assert_eq!(card.by_id("gv"), want.gv);
    assert_eq!(card.by_id("level-capped"), want.level_capped_volume);
    assert_eq!(card.by_id("frontline-count"), want.frontline_count.to_string());
    for level in &want.levels {
        let row = card.by_id(&format!("level-{}", level.level)).to_owned();
        let cells = format!(
            "<td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}",
            level.level, level.volume, level.partner_count, level.active_count
        );
        assert!(card.body.contains(&format!("<tr id=\"level-{}\">{cells}", level.level)), "{row} vs {level:?}");
    }
}

#[tokio::test]
async fn the_card_shows_the_apis_numbers_and_escapes_free_text() {
    let mut h = Harness::with_admin_page().await;
    let admin = h.admin_addr.expect("the harness learns the admin page's address");
    let (mut v, mut c) = example_with_closed_period(&mut h).await;

    // By default: volumes of the open period, the statement of the closed one.
    let card = get(admin, "/partners/A").await;
    assert_eq!(card.status, 200, "{}", card.body);
    assert_eq!(card.by_id("partner-id"), "A");
    assert_volumes(&card, &volumes_ok(&mut v, "A", OPEN).await);
    let official = statement(&mut c, "A", "", CLOSED).await.expect("GetStatement");
    assert_eq!(card.by_id("payable"), official.payable);
    assert_eq!(card.by_id("payable"), "113.70");
    assert_eq!(card.by_id("statement-run"), official.run_id);
    assert_eq!(card.by_id("statement-rank"), official.paid_as_rank);

    // A chosen period: the closed one's frozen figures.
    let frozen = get(admin, &format!("/partners/J?period={CLOSED}&statement={CLOSED}")).await;
    assert_eq!(frozen.status, 200, "{}", frozen.body);
    assert_volumes(&frozen, &volumes_ok(&mut v, "J", CLOSED).await);
    assert_eq!(frozen.by_id("payable"), statement(&mut c, "J", "", CLOSED).await.expect("J's statement").payable);
    // J's upline, nearest first, each a link to its card.
    assert!(frozen.body.contains("<ol id=\"upline\"><li><a href=\"/partners/I\">I</a>"), "{}", frozen.body);
    assert!(
        frozen.body.contains("<a href=\"/partners/G\">G</a>") && frozen.body.contains("<a href=\"/partners/C\">C</a>")
    );

    // Free text comes back escaped, never as markup.
    let hostile = get(admin, "/partners/M").await;
    assert_eq!(hostile.status, 200);
    assert!(!hostile.body.contains("<script>"), "{}", hostile.body);
    assert_eq!(hostile.by_id("display-name"), "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; co");

    // The period's runs: the official one with the run's totals.
    let period = get(admin, &format!("/periods/{CLOSED}")).await;
    assert_eq!(period.status, 200, "{}", period.body);
    assert_eq!(period.by_id("state"), "closed");
    let run = format!("<tr id=\"run-{}\"><td class=\"t\">{}</td><td>official</td>", official.run_id, official.run_id);
    assert!(period.body.contains(&run), "{}", period.body);
    assert!(period.body.contains("<td>359.20</td>"), "the payable total: {}", period.body);
    let index = get(admin, "/").await;
    assert!(index.body.contains(&format!("<a href=\"/periods/{OPEN}\">{OPEN}</a>")), "{}", index.body);
    h.stop().await;
}

#[tokio::test]
async fn bad_ids_and_periods_get_precise_400_and_404_pages() {
    let mut h = Harness::with_admin_page().await;
    let admin = h.admin_addr.expect("an admin page");
    let _clients = example_with_closed_period(&mut h).await;
    let cases = [
        ("/partners/nobody", 404, "partner_id: partner &#39;nobody&#39; not found"),
        ("/partners/no%20spaces", 400, "partner_id: &#39;no spaces&#39; contains"),
        ("/partners/A?period=2026-13", 400, "period: "),
        ("/partners/A?statement=soon", 400, "statement: "),
        ("/partners?id=", 400, "id: is missing"),
        ("/periods/2026-10", 404, "period: 2026-10 has no orders"),
        ("/periods/yesterday", 400, "period: "),
        ("/periods/2026-11?page=0", 400, "page: "),
        ("/nothing/here", 404, "path: no admin page at &#39;/nothing/here&#39;"),
    ];
    for (path, status, needle) in cases {
        let answer = get(admin, path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert!(answer.body.contains(needle), "{path}: {needle:?} not in {}", answer.body);
    }
    // A closed period has no live rank progress: that section says why, the card still shows.
    let card = get(admin, &format!("/partners/A?period={CLOSED}")).await;
    assert_eq!(card.status, 200);
    assert!(card.body.contains(&format!("period {CLOSED} is closed")), "{}", card.body);
    let found = get(admin, "/partners?id=B").await;
    assert_eq!((found.status, found.header("location")), (303, Some("/partners/B")));
    h.stop().await;
}

#[tokio::test]
async fn only_admin_keys_see_the_page_by_header_basic_auth_or_login_cookie() {
    let s = Secured::with_admin_page().await;
    let admin = s.admin_page.expect("an admin page");
    let refused = get(admin, "/").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
    assert!(refused.body.contains("action=\"/login\"") && refused.body.contains("no credentials"));
    let bearer = |key: &str| format!("Bearer {key}");
    let as_backend = http(admin, "GET", "/", &[("Authorization", &bearer(&s.backend))], "").await;
    assert_eq!(as_backend.status, 403, "{}", as_backend.body);
    assert!(as_backend.body.contains("backend key"));
    let unknown = http(admin, "GET", "/", &[("Authorization", "Bearer dl_not-a-key")], "").await;
    assert_eq!(unknown.status, 401);
    assert!(unknown.body.contains("unknown API key"));
    let by_header = http(admin, "GET", "/partners/nobody", &[("Authorization", &bearer(&s.admin))], "").await;
    assert_eq!(by_header.status, 404, "an admin gets past the door: {}", by_header.body);
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("ops:{}", s.admin)));
    assert_eq!(http(admin, "GET", "/", &[("Authorization", &basic)], "").await.status, 200);

    // The login form: a wrong key is refused, the admin key gets a session cookie.
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let wrong = http(admin, "POST", "/login", &form, "key=dl_wrong").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let login = http(admin, "POST", "/login", &form, &format!("key={}", s.admin)).await;
    assert_eq!((login.status, login.header("location")), (303, Some("/")));
    let cookie = login.header("set-cookie").expect("a session cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(&s.admin), "the cookie names a session, never the key: {cookie}");
    let session = cookie.split(';').next().expect("name=value").to_owned();
    assert_eq!(http(admin, "GET", "/", &[("Cookie", &session)], "").await.status, 200);
    let out = http(admin, "POST", "/logout", &[("Cookie", &session)], "").await;
    assert_eq!(out.status, 303);
    assert_eq!(http(admin, "GET", "/", &[("Cookie", &session)], "").await.status, 401, "the session ended");
    s.stop().await;
}

#[tokio::test]
async fn an_open_admin_page_off_loopback_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = ServerConfig {
        admin_listen: Some("0.0.0.0:0".parse().expect("an address")),
        ..ServerConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().expect("an address"))
    };
    let refused = match server::start_with(config, Security::default()).await {
        Ok(_) => panic!("an open admin page on 0.0.0.0 must be refused"),
        Err(err) => err.to_string(),
    };
    assert!(refused.starts_with("--admin-listen 0.0.0.0:0: no API keys"), "{refused}");
    assert!(std::fs::read_dir(dir.path()).expect("the dir").next().is_none(), "nothing was created");
}
