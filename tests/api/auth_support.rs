//! The harness of the access-control tests: a server with API keys (one
//! admin, one backend), partner JWTs (HS256 by default) and optional TLS;
//! tokens made at test time; certificates made at test time with rcgen (no
//! fixture ever expires); and a raw-bytes gRPC client that can call any
//! method path with any payload.

use downline::auth::jwt::{JwtConfig, JwtKeySource, JwtVerifier};
use downline::auth::keys::{line, new_key, ApiKeys};
use downline::auth::{Credentials, Role};
use downline::server::{self, RunningServer, Security, ServerConfig, TlsFiles};
use downline::service::limits::Limits;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Request, Status};

/// The audience partner tokens must carry.
pub const AUDIENCE: &str = "downline-app";
/// The issuer partner tokens must carry.
pub const ISSUER: &str = "https://id.example.test";
/// The HS256 secret of the test identity service.
pub const SECRET: &[u8] = b"test-secret-of-the-identity-service-0123456789";

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// The claims of a valid partner token for `sub`, valid for an hour.
pub fn claims(sub: &str) -> serde_json::Value {
    json!({ "sub": sub, "aud": AUDIENCE, "iss": ISSUER, "exp": now() + 3600, "iat": now() })
}

/// An HS256 token of `claims` signed with `secret`.
pub fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &key).expect("a token")
}

/// A valid partner token for `sub` under the test secret.
pub fn partner_token(sub: &str) -> String {
    hs256(&claims(sub), SECRET)
}

/// A request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("an ascii token"));
    request
}

/// A request with an optional token.
pub fn maybe_authed<T>(message: T, token: Option<&str>) -> Request<T> {
    match token {
        Some(token) => authed(message, token),
        None => Request::new(message),
    }
}

/// Test certificates: a CA, a server certificate for `localhost` and a
/// client certificate, all signed by the CA.
pub struct Pki {
    /// The CA certificate, PEM.
    pub ca: String,
    /// The server certificate and key, PEM.
    pub server: (String, String),
    /// A client certificate and key, PEM.
    pub client: (String, String),
}

impl Pki {
    /// Fresh certificates.
    pub fn new() -> Pki {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "downline test CA");
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
        let leaf = |names: Vec<String>| {
            let key = rcgen::KeyPair::generate().expect("a key");
            let cert = rcgen::CertificateParams::new(names).expect("params").signed_by(&key, &ca).expect("signed");
            (cert.pem(), key.serialize_pem())
        };
        let server = leaf(vec!["localhost".into()]);
        let client = leaf(vec!["backend.example.test".into()]);
        Pki { ca: ca.pem(), server, client }
    }

    /// Writes the server's files into `dir`; `mutual` adds the client CA.
    pub fn server_files(&self, dir: &Path, mutual: bool) -> TlsFiles {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("a pem file");
            path
        };
        TlsFiles {
            cert: write("server.pem", &self.server.0),
            key: write("server.key", &self.server.1),
            client_ca: mutual.then(|| write("ca.pem", &self.ca)),
        }
    }
}

/// How the test server checks partner tokens.
pub enum JwtSetup {
    /// HS256 under [`SECRET`].
    Hs256,
    /// RS256 under this public key (PEM).
    Rs256(String),
}

/// A running server with credentials.
pub struct Secured {
    /// Holds the data directory, keys file and certificates: never read,
    /// kept so they live as long as the server.
    #[allow(dead_code)]
    dir: TempDir,
    /// Where it listens.
    pub addr: SocketAddr,
    /// An admin key.
    pub admin: String,
    /// A backend key.
    pub backend: String,
    /// The admin page's address, when it serves one.
    pub admin_page: Option<SocketAddr>,
    server: Option<RunningServer>,
}

impl Secured {
    /// A server with keys and HS256 partner tokens, plaintext, `limits`.
    pub async fn start(limits: Limits) -> Secured {
        Secured::start_with(limits, JwtSetup::Hs256, None).await
    }

    /// A server with keys, the given token setup, optional TLS.
    pub async fn start_with(limits: Limits, jwt: JwtSetup, pki: Option<(&Pki, bool)>) -> Secured {
        Secured::start_full(limits, jwt, pki, None).await
    }

    /// A server with keys and HS256 partner tokens, serving the admin page
    /// on a free port of 127.0.0.1 too.
    pub async fn with_admin_page() -> Secured {
        let admin_listen = Some("127.0.0.1:0".parse().expect("an address"));
        Secured::start_full(Limits::default(), JwtSetup::Hs256, None, admin_listen).await
    }

    /// A server with keys, the given token setup, optional TLS and admin page.
    async fn start_full(
        limits: Limits,
        jwt: JwtSetup,
        pki: Option<(&Pki, bool)>,
        admin_listen: Option<SocketAddr>,
    ) -> Secured {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (admin, backend) = (new_key(), new_key());
        let keys_file = dir.path().join("keys.txt");
        let text = format!(
            "# test keys\n{}\n{}\n",
            line(&admin, Role::Admin, "ops-admin"),
            line(&backend, Role::Backend, "back-office")
        );
        std::fs::write(&keys_file, text).expect("a keys file");
        let key = match jwt {
            JwtSetup::Hs256 => JwtKeySource::Hs256SecretFile(write(dir.path(), "jwt.secret", SECRET)),
            JwtSetup::Rs256(pem) => JwtKeySource::Rs256PublicKeyFile(write(dir.path(), "jwt.pub", pem.as_bytes())),
        };
        let config = JwtConfig { key, audience: AUDIENCE.into(), issuer: Some(ISSUER.into()), leeway_secs: 5 };
        let credentials = Credentials::new(
            ApiKeys::load(&keys_file).expect("the keys file"),
            Some(JwtVerifier::new(&config).expect("the JWT config")),
        );
        let tls = pki.map(|(pki, mutual)| pki.server_files(dir.path(), mutual));
        let security = Security { credentials: Some(credentials), tls, limits };
        let listen = "127.0.0.1:0".parse().expect("an address");
        let config = ServerConfig { admin_listen, ..ServerConfig::new(dir.path().join("data"), listen) };
        let server = server::start_with(config, security).await.expect("the server starts");
        let admin_page = server.admin_addr;
        Secured { dir, addr: server.local_addr, admin, backend, admin_page, server: Some(server) }
    }

    /// A plaintext channel.
    pub async fn channel(&self) -> Channel {
        crate::harness::channel(self.addr).await
    }

    /// Shuts the server down cleanly.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("a file");
    path
}

/// A codec of raw message bytes, to send anything to any method.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}

/// Calls `path` with one raw message (unary) or a stream of them.
pub async fn raw_call(
    channel: &Channel,
    path: &str,
    messages: Vec<Vec<u8>>,
    streaming: bool,
    token: Option<&str>,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
    let path: tonic::codegen::http::uri::PathAndQuery = path.parse().expect("a method path");
    if streaming {
        let request = maybe_authed(tokio_stream::iter(messages), token);
        return grpc.client_streaming(request, path, RawCodec).await.map(tonic::Response::into_inner);
    }
    let message = messages.into_iter().next().unwrap_or_default();
    grpc.unary(maybe_authed(message, token), path, RawCodec).await.map(tonic::Response::into_inner)
}
