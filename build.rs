//! Compiles proto/ into Rust with protox (pure Rust: no system protoc) and
//! writes the descriptor set that the reflection service serves.

use prost::Message;
use std::{env, io, path::PathBuf};

/// The proto files of the public API, relative to proto/.
const PROTOS: &[&str] = &[
    "downline/v1/genealogy.proto",
    "downline/v1/volume.proto",
    "downline/v1/operations.proto",
    "downline/v1/compensation.proto",
    "downline/v1/team.proto",
    "downline/v1/simulation.proto",
    // Not part of the API: the error details downline sends, so that
    // reflection describes them and grpcurl decodes them.
    "google/rpc/error_details.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let files: Vec<String> = PROTOS.iter().map(|p| format!("proto/{p}")).collect();
    let fds = protox::compile(&files, ["proto"]).map_err(io::Error::other)?;
    // Written by hand: with compile_fds prost-build never runs protoc, which is
    // what would otherwise write the set.
    std::fs::write(out_dir.join("downline_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)
}
