//! The generated gRPC code of `proto/` and the descriptor set served by
//! reflection. Nothing outside `service`, `server` and the clients uses it.

/// Package `downline.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("downline.v1");
}

/// The encoded `FileDescriptorSet` of every proto file, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/downline_descriptor.bin"));
