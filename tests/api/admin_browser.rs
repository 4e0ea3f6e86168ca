//! A real headless browser (Debian's Chromium) loads the admin page: the
//! DOM it builds shows the gRPC API's figures, and it renders a screenshot.
//!
//! The server runs in development mode (no credentials, loopback only), in
//! which the admin page asks for no key, exactly as the gRPC listener: the
//! Chromium command line can set neither a header nor a cookie, and a key
//! never goes into a URL. The login itself is tested over HTTP in
//! `admin_page.rs`.
//!
//! DOWNLINE_ADMIN_SCREENSHOT=<file.png> keeps a copy of the screenshot.
//!
//! The test installs Debian's Chromium when it is missing and it runs as
//! root with apt-get (as CI does: `cargo test --release` on a fresh
//! machine). Where it cannot, it says so loudly and passes, unless
//! DOWNLINE_REQUIRE_BROWSER is set.

use crate::admin_support::{by_id, example_with_closed_period, CLOSED, OPEN};
use crate::compensation_api::statement;
use crate::harness::Harness;
use crate::volume_support::volumes_ok;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser binary of Debian's `chromium` package.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest one browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(20);

/// Installs Debian's Chromium with apt-get when this process is root;
/// whether the install ran and succeeded.
fn install_chromium() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        return false;
    }
    eprintln!("{CHROMIUM} is missing: installing Debian's chromium with apt-get (once, a minute or two)");
    let apt = |args: &[&str]| {
        let status = Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status();
        status.is_ok_and(|s| s.success())
    };
    apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "chromium"])
}

/// Chromium's path, or `None` (and a loud note) when it is absent, cannot
/// be installed and is not required.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(CHROMIUM);
    if path.exists() || (install_chromium() && path.exists()) {
        return Some(path);
    }
    assert!(
        std::env::var_os("DOWNLINE_REQUIRE_BROWSER").is_none(),
        "DOWNLINE_REQUIRE_BROWSER is set but {CHROMIUM} is missing: apt-get install -y chromium"
    );
    eprintln!("\n*** SKIPPED the headless-browser test of the admin page: {CHROMIUM} is missing ***");
    eprintln!("*** install it with `apt-get install -y chromium` (this test does so itself as root) ***\n");
    None
}

/// Runs Chromium headless on `url` with `mode` (`--dump-dom` or
/// `--screenshot=<file>`); its standard output. Killed after the timeout.
fn browse(browser: &Path, profile: &Path, mode: &str, url: &str) -> String {
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1200,1600", mode, url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().expect("chromium runs").is_none() {
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium {mode} {url} took more than {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("chromium's output");
    assert!(output.status.success(), "chromium {mode} {url}: {:?}", output.status);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_headless_browser_shows_the_card_with_the_apis_numbers() {
    let Some(browser) = chromium() else { return };
    let mut h = Harness::with_admin_page().await;
    let admin = h.admin_addr.expect("an admin page");
    let (mut v, mut c) = example_with_closed_period(&mut h).await;
    let want_volumes = volumes_ok(&mut v, "A", OPEN).await;
    let want_statement = statement(&mut c, "A", "", CLOSED).await.expect("GetStatement");

    let url = format!("http://{admin}/partners/A");
    let scratch = tempfile::tempdir().expect("a temp dir");
    let shot = scratch.path().join("card.png");
    let (dom, png) = tokio::task::spawn_blocking({
        let (scratch, shot, browser) = (scratch.path().to_owned(), shot.clone(), browser.clone());
        move || {
            let dom = browse(&browser, &scratch.join("profile-dom"), "--dump-dom", &url);
            browse(&browser, &scratch.join("profile-shot"), &format!("--screenshot={}", shot.display()), &url);
            (dom, std::fs::read(&shot).expect("the screenshot is written"))
        }
    })
    .await
    .expect("the browser runs");

    assert_eq!(by_id(&dom, "partner-id"), "A", "{dom}");
    assert_eq!(by_id(&dom, "pv"), want_volumes.pv);
    assert_eq!(by_id(&dom, "gv"), want_volumes.gv);
    assert_eq!(by_id(&dom, "payable"), want_statement.payable);
    assert!(dom.contains("<tr id=\"level-1\">"), "the levels table: {dom}");
    if let Some(keep) = std::env::var_os("DOWNLINE_ADMIN_SCREENSHOT") {
        std::fs::write(&keep, &png).expect("the kept screenshot is written");
    }
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert!(png.len() > 20_000, "a 1200x1600 page of tables is more than {} bytes", png.len());
    h.stop().await;
}
