//! The architecture rules of ARCHITECTURE.md, checked on the source text
//! (in the style of rust-analyzer's `tidy` test): each rule is one test
//! whose failure names the file and the line.
//!
//! The checks read code only: comments, doc comments, string and character
//! literals are blanked first (`code_of`), so a rule may be explained in a
//! comment without breaking it.

use std::path::{Path, PathBuf};

/// The longest source file, in lines.
const MAX_FILE_LINES: usize = 500;

/// The most files the walk reads: a bound, far above the project's size.
const MAX_FILES: usize = 10_000;

/// The constructors of `tonic::Status`: only `src/service/status.rs` may
/// call them, so every status gets its message cap.
const STATUS_CONSTRUCTORS: [&str; 27] = [
    "new",
    "from",
    "with_details",
    "with_metadata",
    "with_details_and_metadata",
    "with_error_details",
    "with_error_details_and_metadata",
    "with_error_details_vec",
    "from_error",
    "from_header_map",
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

/// The names a partner index goes by in a parameter. In a `pub fn` of
/// src/app or src/service such a parameter is a `PartnerIx`, never a raw
/// `u32` (ARCHITECTURE.md: a partner index crossing a room boundary is a
/// `PartnerIx`).
const PARTNER_PARAMS: [&str; 12] = [
    "partner",
    "partner_ix",
    "ix",
    "x",
    "index",
    "seq",
    "sponsor",
    "sponsor_ix",
    "mentor",
    "mentor_ix",
    "root",
    "root_ix",
];

/// The root of the workspace.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir` (relative to the root), sorted; build
/// output (`target/`) is skipped. A loop over a stack: no recursion.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    let mut stack = vec![root().join(dir)];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.map_while(Result::ok) {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        assert!(files.len() <= MAX_FILES, "more than {MAX_FILES} source files under {dir:?}");
    }
    files.sort();
    files
}

/// The path of `file` relative to the root, for messages.
fn shown(file: &Path) -> String {
    file.strip_prefix(root()).unwrap_or(file).display().to_string()
}

/// The text of `file`.
fn read(file: &Path) -> String {
    std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", shown(file)))
}

/// `text` with every comment and every string or character literal
/// replaced by spaces; line breaks stay, so line numbers stay true.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let end = literal_or_comment_end(&chars, i);
        if end == i {
            out.push(chars[i]);
            i += 1;
        } else {
            out.extend(chars[i..end].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
            i = end;
        }
    }
    out
}

/// Where the comment or literal starting at `i` ends (exclusive), or `i`
/// when none starts there.
fn literal_or_comment_end(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    match (at(i), at(i + 1)) {
        ('/', '/') => (i..chars.len()).find(|&k| chars[k] == '\n').unwrap_or(chars.len()),
        ('/', '*') => block_comment_end(chars, i),
        ('"', _) => quoted_end(chars, i + 1, '"'),
        ('r', '"' | '#') if !ident_before => raw_string_end(chars, i + 1).unwrap_or(i),
        ('b', '"') if !ident_before => quoted_end(chars, i + 2, '"'),
        ('\'', _) => char_literal_end(chars, i).unwrap_or(i),
        _ => i,
    }
}

/// The end of a (nested) block comment starting at `i`.
fn block_comment_end(chars: &[char], i: usize) -> usize {
    let (mut depth, mut k) = (0usize, i);
    while k + 1 < chars.len() {
        match (chars[k], chars[k + 1]) {
            ('/', '*') => (depth, k) = (depth + 1, k + 2),
            ('*', '/') => {
                (depth, k) = (depth - 1, k + 2);
                if depth == 0 {
                    return k;
                }
            }
            _ => k += 1,
        }
    }
    chars.len()
}

/// The end of a literal whose body starts at `k` and ends at an unescaped
/// `close`.
fn quoted_end(chars: &[char], mut k: usize, close: char) -> usize {
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 2,
            c if c == close => return k + 1,
            _ => k += 1,
        }
    }
    chars.len()
}

/// The end of a raw string `r#*"…"#*` whose hashes start at `k`; `None` if
/// it is no raw string (e.g. `r#ident`).
fn raw_string_end(chars: &[char], k: usize) -> Option<usize> {
    let hashes = chars[k..].iter().take_while(|&&c| c == '#').count();
    if chars.get(k + hashes) != Some(&'"') {
        return None;
    }
    let mut j = k + hashes + 1;
    while j < chars.len() {
        if chars[j] == '"' && chars[j + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The end of a character literal at `i` (`'x'`, `'\n'`, `'\u{..}'`);
/// `None` for a lifetime or a label.
fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => Some(quoted_end(chars, i + 1, '\'')),
        _ if chars.get(i + 2) == Some(&'\'') => Some(i + 3),
        _ => None,
    }
}

/// Whether `code` names the crate `name` as a path: `name::`, `use name`
/// or `extern crate name`, not as part of a longer identifier.
fn names_crate(code: &str, name: &str) -> bool {
    let path = format!("{name}::");
    let starts_word = |at: usize| code[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    let as_path = code.match_indices(&path).any(|(at, _)| starts_word(at));
    let words: Vec<&str> = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let imported = words.windows(2).any(|w| w[0] == "use" && w[1] == name)
        || words.windows(3).any(|w| w[0] == "extern" && w[1] == "crate" && w[2] == name);
    as_path || imported
}

/// Whether `code` calls a constructor of `Status`.
fn builds_status(code: &str) -> bool {
    code.match_indices("Status::").any(|(at, found)| {
        let before = code[..at].chars().next_back();
        let rest = &code[at + found.len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) && STATUS_CONSTRUCTORS.contains(&name.as_str())
    })
}

/// Whether `code` holds the `unsafe` keyword.
fn uses_unsafe(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "unsafe")
}

/// Whether `code` opens an `impl` block of `App` (inherent or of a trait):
/// a word `App` in the header before its `{`.
fn implements_app(code: &str) -> bool {
    let header = code.trim_start();
    let header = header.split('{').next().unwrap_or(header);
    let mut words = header.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    words.next() == Some("impl") && words.any(|w| w == "App")
}

/// The `partner: u32`-like parameters of the public functions of `code`:
/// `(line, parameter)` with the line (from 0) of the function's `pub`. A
/// signature runs from its `pub` to its first `{` or `;`, over any lines.
fn raw_partner_params(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (n, line) in code.lines().enumerate() {
        let start = offset;
        offset += line.len() + 1;
        let head = line.trim_start();
        if !["pub fn ", "pub async fn ", "pub const fn "].iter().any(|p| head.starts_with(p)) {
            continue;
        }
        let rest = &code[start..];
        let signature = &rest[..rest.find(['{', ';']).unwrap_or(rest.len())];
        let signature = signature.split_whitespace().collect::<Vec<_>>().join(" ");
        for name in PARTNER_PARAMS {
            for ty in ["u32", "Option<u32>"] {
                let param = format!("{name}: {ty}");
                let hit = signature.match_indices(&param).any(|(at, _)| {
                    let before = signature[..at].chars().next_back();
                    let after = signature[at + param.len()..].chars().next();
                    before.is_some_and(|c| c == '(' || c == ' ') && after.is_some_and(|c| c == ',' || c == ')')
                });
                if hit {
                    found.push((n, param));
                }
            }
        }
    }
    found
}

/// `file:line: what` for every line of the files under `dirs` whose code
/// breaks `rule`.
fn violations(dirs: &[&str], skip: &[&str], what: &str, rule: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for file in dirs.iter().flat_map(|d| rust_files(d)) {
        let name = shown(&file);
        if skip.contains(&name.as_str()) {
            continue;
        }
        for (n, line) in code_of(&read(&file)).lines().enumerate() {
            if rule(line) {
                found.push(format!("{name}:{}: {what}", n + 1));
            }
        }
    }
    found
}

#[track_caller]
fn assert_none(found: Vec<String>) {
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_engine_uses_no_grpc_storage_or_runtime() {
    for name in ["tonic", "prost", "sled", "tokio"] {
        assert_none(violations(&["src/engine"], &[], &format!("the engine names `{name}`"), |l| names_crate(l, name)));
    }
}

#[test]
fn the_store_knows_no_grpc() {
    assert_none(violations(&["src/store"], &[], "the store names `tonic`", |l| names_crate(l, "tonic")));
    assert_none(violations(&["src/store"], &[], "the store names the proto types", |l| names_crate(l, "proto")));
}

#[test]
fn the_app_knows_no_grpc() {
    for krate in ["tonic", "prost", "proto"] {
        let what = format!("the application room names `{krate}`");
        assert_none(violations(&["src/app"], &[], &what, |l| names_crate(l, krate)));
    }
}

/// The application's behaviour lives in its room: the services only map
/// proto messages to `App` calls, so they add no methods to it.
#[test]
fn app_is_implemented_only_in_src_app() {
    let what = "an `impl` of `App` outside src/app (move the method into the application room)";
    let outside: Vec<String> =
        violations(&["src"], &[], what, implements_app).into_iter().filter(|v| !v.starts_with("src/app/")).collect();
    assert_none(outside);
}

/// Tests are clients: they build statuses to stand for a server's answer
/// (`tests/`, not scanned). Server and tools code may not.
#[test]
fn statuses_are_built_only_in_service_status() {
    let skip = ["src/service/status.rs"];
    let what = "a `Status` built outside src/service/status.rs (add a constructor there)";
    assert_none(violations(&["src", "tools/src"], &skip, what, builds_status));
}

/// The application and the services hand partner indexes around as
/// `PartnerIx`: a raw `u32` named like a partner in a public signature is a
/// step back to the mix-ups the newtype rules out (the compiler checks the
/// rest once the signature is typed).
#[test]
fn app_and_service_signatures_take_partner_ix() {
    let mut found = Vec::new();
    for file in ["src/app", "src/service"].iter().flat_map(|d| rust_files(d)) {
        for (n, param) in raw_partner_params(&code_of(&read(&file))) {
            found.push(format!("{}:{}: `{param}` in a public signature: take a `PartnerIx`", shown(&file), n + 1));
        }
    }
    assert_none(found);
}

#[test]
fn no_source_file_is_over_500_lines() {
    let mut found = Vec::new();
    for file in ["src", "tests", "benches", "tools"].iter().flat_map(|d| rust_files(d)) {
        let lines = read(&file).lines().count();
        if lines > MAX_FILE_LINES {
            found.push(format!(
                "{}:{}: {lines} lines, over {MAX_FILE_LINES}: split it",
                shown(&file),
                MAX_FILE_LINES + 1
            ));
        }
    }
    assert_none(found);
}

#[test]
fn no_unsafe_outside_the_tools() {
    let what = "`unsafe` outside tools/ (the tools crate holds every unsafe block)";
    assert_none(violations(&["src", "tests", "benches"], &[], what, uses_unsafe));
    let build = code_of(&read(&root().join("build.rs")));
    assert!(!uses_unsafe(&build), "build.rs: {what}");
}

#[test]
fn the_checks_see_code_and_only_code() {
    assert!(names_crate("use tonic::Status;", "tonic"));
    assert!(names_crate("let x = ::tokio::spawn(f);", "tokio"));
    assert!(names_crate("use sled;", "sled"));
    assert!(names_crate("extern crate prost;", "prost"));
    assert!(!names_crate("let tokio_like = my_tokio::x;", "tokio"));
    assert!(builds_status("Err(Status::not_found(m))"));
    assert!(builds_status("tonic::Status::new(code, m)"));
    assert!(!builds_status("fn f() -> Result<(), Status> { status::not_found(\"f\", m) }"));
    assert!(!builds_status("PartnerStatus::Enrolled"));
    assert!(uses_unsafe("let n = unsafe { read(fd) };"));
    assert!(!uses_unsafe("#![forbid(unsafe_code)]"));
    assert!(implements_app("impl crate::app::App {") && implements_app("impl<T> Tokens for Arc<App> {"));
    assert!(!implements_app("impl From<AppError> for Status {") && !implements_app("let app: Arc<App> = x;"));
    let typed = "pub fn find(&self, g: &Genealogy, ix: PartnerIx) -> u32 {\n    pub fn page(\n        &self,\n        max_x: u32,\n    ) {";
    assert!(raw_partner_params(typed).is_empty(), "{typed}");
    let raw = "fn private(x: u32) {}\npub async fn read(\n    period: Period,\n    partner: u32,\n) {}\npub fn list(partner_ix: Option<u32>) {}";
    let params: Vec<(usize, String)> = raw_partner_params(raw);
    assert_eq!(params, [(1, "partner: u32".to_owned()), (5, "partner_ix: Option<u32>".to_owned())]);
    let code = code_of("a // tonic::x\n/* unsafe /* nested */ */ b \"Status::new\" 'x' '\\'' r#\"unsafe\"# c<'a>");
    assert!(!names_crate(&code, "tonic") && !uses_unsafe(&code) && !builds_status(&code), "{code}");
    assert!(code.contains(" b ") && code.contains(" c<'a>") && code.lines().count() == 2, "{code}");
}
