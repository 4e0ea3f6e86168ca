//! The credential the load generator sends with every request.

/// A client interceptor that sends `authorization: Bearer <token>` (an API
/// key or a JWT) with every request, or nothing without a token.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::AsciiMetadataValue>);

impl Bearer {
    /// The interceptor of an optional token; refuses a token that is not
    /// printable ASCII.
    pub fn new(token: Option<&str>) -> Result<Bearer, String> {
        let value = token
            .map(|t| format!("Bearer {t}").parse().map_err(|_| "--token must be printable ASCII".to_owned()))
            .transpose()?;
        Ok(Bearer(value))
    }

    /// The `authorization` header's value, for clients that write HTTP/2
    /// headers themselves.
    pub fn header_value(&self) -> Option<http::HeaderValue> {
        let value = self.0.as_ref()?;
        Some(http::HeaderValue::from_bytes(value.as_bytes()).expect("an ASCII metadata value is a valid header value"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert(downline::auth::AUTHORIZATION_HEADER, value.clone());
        }
        Ok(request)
    }
}
