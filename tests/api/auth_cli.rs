//! The binary's side of access control: `downline keys new` and `keys hash`
//! print keys-file lines that `serve --keys-file` accepts; `serve` without
//! credentials refuses a non-loopback address, and refuses a JWT key
//! without an audience, before it opens anything.

use downline::auth::keys::{hash_hex, ApiKeys, KeyEntry};
use downline::auth::Role;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn downline(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("stdin");
    child.wait_with_output().expect("the binary ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn keys_new_and_hash_print_lines_the_keys_file_accepts() {
    let out = downline(&["keys", "new", "--role", "backend", "--name", "back-office"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let [key, line] = lines[..] else { panic!("two lines expected: {stdout}") };
    assert_eq!(line, format!("{} backend back-office", hash_hex(key)));
    let keys = ApiKeys::parse(line).expect("a keys file line");
    assert_eq!(keys.find(key), Some(&KeyEntry { role: Role::Backend, name: "back-office".into() }));

    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("keys.txt");
    let path = file.to_str().expect("a utf-8 path");
    for name in ["ops", "ops2"] {
        let out = downline(&["keys", "new", "--role", "admin", "--name", name, "--append", path], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let keys = ApiKeys::load(&file).expect("an appended keys file");
    assert_eq!(keys.len(), 2);

    let out = downline(&["keys", "hash", "--role", "admin", "--name", "ops"], &format!("{key}\n"));
    assert_eq!(text(&out.stdout).trim(), format!("{} admin ops", hash_hex(key)));
    let bad = downline(&["keys", "new", "--role", "partner", "--name", "x"], "");
    assert!(!bad.status.success(), "partner is no key role");
    let bad = downline(&["keys", "new", "--role", "admin", "--name", "bad name"], "");
    assert!(!bad.status.success(), "names follow the id alphabet");
}

#[test]
fn serve_refuses_to_run_open_beyond_loopback_or_with_a_half_jwt_setup() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("a utf-8 path");
    let out = downline(&["serve", "--listen", "0.0.0.0:0", "--data-dir", data], "");
    assert!(!out.status.success(), "open on every interface must not start");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refusing to serve 0.0.0.0:0 open"), "{stderr}");
    assert!(!std::path::Path::new(data).exists(), "refused before opening the store");

    let secret = dir.path().join("jwt.secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef").expect("a secret");
    let secret = secret.to_str().expect("a utf-8 path");
    let out = downline(&["serve", "--data-dir", data, "--jwt-hs256-secret-file", secret], "");
    assert!(!out.status.success(), "a JWT key without an audience must not start");
    assert!(text(&out.stderr).contains("audience"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("short"), "short").expect("a secret");
    let short = dir.path().join("short");
    let args =
        ["serve", "--data-dir", data, "--jwt-audience", "app", "--jwt-hs256-secret-file", short.to_str().unwrap()];
    let out = downline(&args, "");
    assert!(text(&out.stderr).contains("shorter than 32 bytes"), "{}", text(&out.stderr));
}
