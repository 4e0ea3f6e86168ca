//! The Python client (`clients/python`, issue #19) against a real server:
//! a venv under cargo's test scratch dir gets the package installed from
//! the repository (`pip install clients/python`, which generates the API
//! modules from `proto/` with grpcio-tools), then the package's own tests
//! start `downline serve` on 127.0.0.1:0 and run the example script,
//! paging, authentication and a bad input against it.
//!
//! Needs `python3` with `venv` and the PyPI registry (both on the CI
//! machine). `DOWNLINE_SKIP_PYTHON=1` skips it, saying so, for a machine
//! without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package's directory in the repository.
fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients").join("python")
}

fn run(what: &str, command: &mut Command) -> Output {
    let out = command.output().unwrap_or_else(|err| panic!("{what}: could not start: {err}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A venv with the package installed from the working tree (reinstalled
/// every run: the client's code or the protos may have changed).
fn venv_with_package() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-client-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run("python3 -m venv", Command::new("python3").args(["-m", "venv"]).arg(&venv));
    }
    let requirements = package_dir().join("requirements.txt");
    run(
        "pip install -r requirements.txt",
        Command::new(&python).args(["-m", "pip", "install", "-q", "-r"]).arg(requirements),
    );
    run(
        "pip install clients/python",
        Command::new(&python).args(["-m", "pip", "install", "-q", "--force-reinstall", "--no-deps"]).arg(package_dir()),
    );
    python
}

#[test]
fn the_python_client_passes_its_tests_against_a_real_server() {
    if std::env::var_os("DOWNLINE_SKIP_PYTHON").is_some_and(|v| v == "1") {
        eprintln!("skipped: DOWNLINE_SKIP_PYTHON=1");
        return;
    }
    let python = venv_with_package();
    let out = run(
        "the Python client's tests",
        Command::new(&python)
            .args(["-m", "unittest", "discover", "-v", "-s"])
            .arg(package_dir().join("tests"))
            .env("DOWNLINE_BIN", env!("CARGO_BIN_EXE_downline"))
            // Only the installed package: not a stale generation in the tree.
            .env_remove("PYTHONPATH")
            .current_dir(std::env::temp_dir()),
    );
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("Ran 4 tests") && report.contains("\nOK"), "{report}");
}
