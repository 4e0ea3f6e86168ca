//! Random and hostile protobuf messages of any type of the served
//! descriptors: every field gets a value of its wire type drawn from
//! extremes and traps (empty, over-long and non-ASCII strings, ids that
//! exist, path and format tricks, out-of-range numbers and enum values,
//! unknown fields, deep nesting); or the bytes are random, or a valid
//! message is truncated, bit-flipped or repeated.

use prost::encoding::{encode_key, encode_varint, WireType};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// Strings that mean something to this API, or to a careless parser.
const TRAPS: &[&str] = &[
    "",
    "root",
    "me",
    "kid",
    "other",
    "nobody",
    "2026-11",
    "2026-13",
    "0000-00",
    "2026-11-31",
    "9999-12-31",
    "100.00",
    "-0.0001",
    "0.00001",
    "1000000001",
    "1e9",
    "NaN",
    "-",
    ".",
    "..",
    "../../etc/passwd",
    "%s%n%x",
    "' OR 1=1 --",
    "\u{0}",
    "é",
    "🙂",
    "\u{202e}evil",
    "operations/recalculate-1",
    "operations/",
    "A-Z.a_z:09",
    "ORDER_KIND_RETAIL",
    "CAEQARgB",
    "AAAA",
    "////",
    "downline.v1.GenealogyService",
    "grpc.health.v1.Health",
];

/// Makes messages from a set of descriptors.
pub struct Gen {
    rng: StdRng,
    messages: HashMap<String, DescriptorProto>,
}

impl Gen {
    /// A generator over the messages of `sets`, seeded.
    pub fn new(sets: &[FileDescriptorSet], seed: u64) -> Gen {
        let mut messages = HashMap::new();
        for set in sets {
            for file in &set.file {
                for m in &file.message_type {
                    register(&mut messages, file.package(), m);
                }
            }
        }
        Gen { rng: StdRng::seed_from_u64(seed), messages }
    }

    /// The random source, for the caller's own choices.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// A payload for a request of type `full_name`, in one of several modes.
    pub fn payload(&mut self, full_name: &str, max_bytes: usize) -> Vec<u8> {
        match self.rng.gen_range(0..100) {
            0..=49 => self.message(full_name, 0),
            50..=64 => (0..self.rng.gen_range(0..300)).map(|_| self.rng.gen()).collect(),
            65..=84 => {
                let mut bytes = self.message(full_name, 0);
                self.mutate(&mut bytes);
                bytes
            }
            85..=93 => Vec::new(),
            94..=97 => {
                // Repeated copies: every non-repeated field given many times.
                let one = self.message(full_name, 0);
                one.repeat(self.rng.gen_range(2..50))
            }
            _ => vec![b'x'; max_bytes + self.rng.gen_range(1..1024)],
        }
    }

    /// A well-typed message with hostile values.
    pub fn message(&mut self, full_name: &str, depth: u32) -> Vec<u8> {
        let Some(descriptor) = self.messages.get(full_name).cloned() else {
            return Vec::new();
        };
        let mut buf = Vec::new();
        for field in &descriptor.field {
            if self.rng.gen_bool(0.2) {
                continue; // left at its default
            }
            let count = match field.label() {
                Label::Repeated => self.rng.gen_range(0..4),
                _ => 1,
            };
            for _ in 0..count {
                self.field(field, depth, &mut buf);
            }
        }
        if self.rng.gen_bool(0.1) {
            let tag = self.rng.gen_range(20..1000);
            encode_key(tag, WireType::Varint, &mut buf);
            encode_varint(self.rng.gen(), &mut buf);
        }
        buf
    }

    fn field(&mut self, field: &FieldDescriptorProto, depth: u32, buf: &mut Vec<u8>) {
        let tag = field.number() as u32;
        match field.r#type() {
            Type::String | Type::Bytes => {
                let text = self.string();
                length_delimited(tag, text.as_bytes(), buf);
            }
            Type::Message | Type::Group => {
                let inner = if depth < 3 {
                    self.message(field.type_name().trim_start_matches('.'), depth + 1)
                } else {
                    Vec::new()
                };
                length_delimited(tag, &inner, buf);
            }
            Type::Bool => varint(tag, self.rng.gen_range(0..3), buf),
            Type::Enum => varint(tag, self.int() as i32 as i64 as u64, buf),
            Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => varint(tag, self.int() as u64, buf),
            Type::Sint32 | Type::Sint64 => varint(tag, zigzag(self.int()), buf),
            Type::Fixed64 | Type::Sfixed64 | Type::Double => {
                encode_key(tag, WireType::SixtyFourBit, buf);
                buf.extend_from_slice(&self.int().to_le_bytes());
            }
            Type::Fixed32 | Type::Sfixed32 | Type::Float => {
                encode_key(tag, WireType::ThirtyTwoBit, buf);
                buf.extend_from_slice(&(self.int() as i32).to_le_bytes());
            }
        }
    }

    fn string(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0..=5 => TRAPS[self.rng.gen_range(0..TRAPS.len())].to_owned(),
            6 => "x".repeat(self.rng.gen_range(60..70)),
            7 => "y".repeat(self.rng.gen_range(190..600)),
            8 => format!("p{}", self.rng.gen_range(0..50)),
            _ => (0..self.rng.gen_range(1..40)).map(|_| char::from(self.rng.gen_range(0x20u8..0x7f))).collect(),
        }
    }

    fn int(&mut self) -> i64 {
        const EDGES: [i64; 10] = [0, 1, -1, 2, 100, 1001, i32::MAX as i64, i32::MIN as i64, i64::MAX, i64::MIN];
        match self.rng.gen_range(0..3) {
            0 => self.rng.gen(),
            _ => EDGES[self.rng.gen_range(0..EDGES.len())],
        }
    }

    fn mutate(&mut self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            bytes.push(self.rng.gen());
            return;
        }
        match self.rng.gen_range(0..3) {
            0 => bytes.truncate(self.rng.gen_range(0..bytes.len())),
            1 => {
                for _ in 0..self.rng.gen_range(1..4) {
                    let i = self.rng.gen_range(0..bytes.len());
                    bytes[i] ^= 1 << self.rng.gen_range(0..8);
                }
            }
            _ => {
                let i = self.rng.gen_range(0..bytes.len());
                bytes.insert(i, self.rng.gen());
            }
        }
    }
}

fn register(messages: &mut HashMap<String, DescriptorProto>, prefix: &str, m: &DescriptorProto) {
    let name = format!("{prefix}.{}", m.name());
    for nested in &m.nested_type {
        register(messages, &name, nested);
    }
    messages.insert(name, m.clone());
}

fn varint(tag: u32, value: u64, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::Varint, buf);
    encode_varint(value, buf);
}

fn length_delimited(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}
