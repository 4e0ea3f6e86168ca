//! The key layout of the one sled tree. Big-endian numbers, so sled's
//! byte order is numeric order and a prefix scan reads in sequence.
//!
//! | key | value |
//! | --- | --- |
//! | `p` + chunk (u32) | `PartnerChunk`: partners `chunk * 64 ..` |
//! | `e` + event seq (u64) | `StoredEvent` (a creation block takes `count` seqs) |
//! | `c` + first partner seq (u32) | the event seq of its creation block |
//! | `x` + partner seq (u32) + event seq (u64) | empty: a partner's other events |
//! | `o` + block seq (u64) | `OrderBlock`: orders in recording order |
//! | `v` + period code (u32) + chunk (u32) | `FrozenChunk`: 64 partners' figures of a closed period |
//! | `m:closed:` + period code (u32) | `ClosedSummary`: the period is closed (written last), with its official run |
//! | `m:plan:` + version (u32) | `PlanRecord`: one version of the compensation plan |
//! | `a` + mentee seq (u32) | `StoredMentor`: an explicit mentor assignment (absent: the sponsor) |
//! | `t` + module ordinal (u32) | `StoredModule`: a training module |
//! | `q` + chunk (u32) | `CompletionChunk`: training completions of partners `chunk * 64 ..` |
//! | `m:run:` + run id | `RunHeadRecord`: a commission run of an open period, started or ended |
//! | `r` + run id + `/` + chunk (u32) | `RunChunkRecord`: a succeeded run's figures, positions `chunk * 4096 ..` |
//! | `m:changes` | the network's count of moves and status changes (u64), in every write |
//! | `m:manifest` | `Manifest`: the figures of everything committed, in every batch that adds data |
//! | `m:` + name | metadata (format, structure version, token key) |

/// Partners per chunk: small enough that rewriting one per write is cheap
/// (~1.5 KiB), large enough that an import writes few keys.
pub const CHUNK_PARTNERS: u32 = 64;
/// Prefix of partner chunks.
pub const PARTNER_CHUNK: u8 = b'p';
/// Prefix of events.
pub const EVENT: u8 = b'e';
/// Prefix of the creation-block index.
pub const CREATION: u8 = b'c';
/// Prefix of the per-partner event index.
pub const PARTNER_EVENT: u8 = b'x';
/// Prefix of order blocks.
pub const ORDER_BLOCK: u8 = b'o';
/// Prefix of the frozen figures of closed periods.
pub const FROZEN: u8 = b'v';
/// Prefix of mentor assignments.
pub const MENTOR: u8 = b'a';
/// Prefix of training modules.
pub const TRAINING_MODULE: u8 = b't';
/// Prefix of training completion chunks.
pub const COMPLETION_CHUNK: u8 = b'q';
/// Prefix of the figures of stored commission runs.
pub const RUN_CHUNK: u8 = b'r';
/// Prefix of stored commission runs' heads.
pub const META_RUN: &[u8] = b"m:run:";
/// The count of moves and status changes (u64): a run's freshness.
pub const META_CHANGES: &[u8] = b"m:changes";
/// Prefix of closed periods.
pub const META_CLOSED: &[u8] = b"m:closed:";
/// Prefix of plan versions.
pub const META_PLAN: &[u8] = b"m:plan:";
/// The on-disk format version.
pub const META_FORMAT: &[u8] = b"m:format";
/// The genealogy's structure version (u64).
pub const META_STRUCTURE_VERSION: &[u8] = b"m:structure_version";
/// The 16-byte key that signs page tokens.
pub const META_TOKEN_KEY: &[u8] = b"m:token_key";
/// The manifest (see `manifest.rs`).
pub const META_MANIFEST: &[u8] = b"m:manifest";
/// The format this build writes and reads.
pub const FORMAT: &[u8] = b"downline-1";

fn with_u32(prefix: u8, n: u32) -> [u8; 5] {
    let mut key = [prefix; 5];
    key[1..].copy_from_slice(&n.to_be_bytes());
    key
}

fn read_u32(key: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(key.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(key: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(at..at + 8)?.try_into().ok()?))
}

/// The key of a partner chunk.
pub fn chunk(number: u32) -> [u8; 5] {
    with_u32(PARTNER_CHUNK, number)
}

/// The chunk number of a chunk key.
pub fn chunk_number(key: &[u8]) -> Option<u32> {
    read_u32(key, 1)
}

/// The key of the creation block that starts at a partner seq.
pub fn creation(first_partner_seq: u32) -> [u8; 5] {
    with_u32(CREATION, first_partner_seq)
}

/// The first partner seq of a creation-index key.
pub fn creation_partner(key: &[u8]) -> Option<u32> {
    read_u32(key, 1)
}

/// The key of an event.
pub fn event(seq: u64) -> [u8; 9] {
    let mut key = [EVENT; 9];
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The event seq of an event key.
pub fn event_seq(key: &[u8]) -> Option<u64> {
    read_u64(key, 1)
}

/// The key of a per-partner index entry.
pub fn partner_event(partner_seq: u32, event_seq: u64) -> [u8; 13] {
    let mut key = [PARTNER_EVENT; 13];
    key[1..5].copy_from_slice(&partner_seq.to_be_bytes());
    key[5..].copy_from_slice(&event_seq.to_be_bytes());
    key
}

/// The event seq of a per-partner index key.
pub fn partner_event_seq(key: &[u8]) -> Option<u64> {
    read_u64(key, 5)
}

/// The key of an order block.
pub fn order_block(seq: u64) -> [u8; 9] {
    let mut key = [ORDER_BLOCK; 9];
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The seq of an order block key.
pub fn order_block_seq(key: &[u8]) -> Option<u64> {
    read_u64(key, 1)
}

/// The key of a partner's mentor assignment.
pub fn mentor(mentee_seq: u32) -> [u8; 5] {
    with_u32(MENTOR, mentee_seq)
}

/// The key of a training module.
pub fn training_module(ordinal: u32) -> [u8; 5] {
    with_u32(TRAINING_MODULE, ordinal)
}

/// The key of a chunk of training completions (partners `number * 64 ..`).
pub fn completion_chunk(number: u32) -> [u8; 5] {
    with_u32(COMPLETION_CHUNK, number)
}

/// The number after the one-byte prefix of a mentor, module or completion key.
pub fn team_key_number(key: &[u8]) -> Option<u32> {
    read_u32(key, 1)
}

/// The key that marks a period closed.
pub fn closed_period(code: u32) -> Vec<u8> {
    let mut key = META_CLOSED.to_vec();
    key.extend_from_slice(&code.to_be_bytes());
    key
}

/// The key of a plan version.
pub fn plan(version: u32) -> Vec<u8> {
    let mut key = META_PLAN.to_vec();
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The version of a plan key.
pub fn plan_version(key: &[u8]) -> Option<u32> {
    read_u32(key, META_PLAN.len())
}

/// The period code of a closed-period key.
pub fn closed_period_code(key: &[u8]) -> Option<u32> {
    read_u32(key, META_CLOSED.len())
}

/// The key of a chunk of a closed period's frozen figures.
pub fn frozen(period_code: u32, chunk: u32) -> [u8; 9] {
    let mut key = [FROZEN; 9];
    key[1..5].copy_from_slice(&period_code.to_be_bytes());
    key[5..].copy_from_slice(&chunk.to_be_bytes());
    key
}

/// The key of a stored run's head.
pub fn run_head(run_id: &str) -> Vec<u8> {
    let mut key = META_RUN.to_vec();
    key.extend_from_slice(run_id.as_bytes());
    key
}

/// The prefix of a stored run's chunks (run ids hold no `/`).
pub fn run_chunks(run_id: &str) -> Vec<u8> {
    let mut key = vec![RUN_CHUNK];
    key.extend_from_slice(run_id.as_bytes());
    key.push(b'/');
    key
}

/// The key of one chunk of a stored run's figures.
pub fn run_chunk(run_id: &str, chunk: u32) -> Vec<u8> {
    let mut key = run_chunks(run_id);
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}
