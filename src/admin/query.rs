//! Query strings and login forms (`application/x-www-form-urlencoded`),
//! parsed by hand so every refusal is an admin error page naming its field.

use super::error::AdminError;
use percent_encoding::percent_decode_str;

/// The longest query string or form body read, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// The most parameters read from one query or form.
const MAX_PARAMS: usize = 16;

/// The decoded `name=value` pairs of a query string or form body, in order.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `raw` (no leading `?`); `None` is an empty query.
    pub fn parse(raw: Option<&str>) -> Result<Params, AdminError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_BYTES {
            return Err(AdminError::bad("query", format!("is {} bytes long; at most {MAX_QUERY_BYTES}", raw.len())));
        }
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() == MAX_PARAMS {
                return Err(AdminError::bad("query", format!("has more than {MAX_PARAMS} parameters")));
            }
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        Ok(Params(pairs))
    }

    /// The value of `name`, if given and not empty (an empty select or text
    /// field of a form means "the default").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// A form-encoded component: `+` is a space, `%XX` a byte; UTF-8 only.
fn decode(component: &str) -> Result<String, AdminError> {
    let spaced = component.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| AdminError::bad("query", "is not UTF-8 once percent-decoded"))
}

/// A page number parameter (`page`, from 1); 1 when absent.
pub fn page_number(params: &Params) -> Result<usize, AdminError> {
    match params.get("page") {
        None => Ok(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| (1..=1_000_000).contains(&n))
            .ok_or_else(|| AdminError::bad("page", format!("'{}' is not a page number from 1", truncated(text)))),
    }
}

/// The start of a value for a message: an attacker's megabyte does not
/// come back whole.
pub fn truncated(text: &str) -> &str {
    crate::engine::id_index::truncate(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_refuse_what_they_cannot_read() {
        let p = Params::parse(Some("key=dl_a%2Bb+c&period=&x")).expect("a query");
        assert_eq!(p.get("key"), Some("dl_a+b c"));
        assert_eq!((p.get("period"), p.get("x"), p.get("y")), (None, None, None));
        assert!(Params::parse(Some("a=%ff")).is_err());
        assert!(Params::parse(Some(&"a=1&".repeat(17))).is_err());
        assert_eq!(page_number(&Params::parse(Some("page=3")).expect("q")).expect("3"), 3);
        assert!(page_number(&Params::parse(Some("page=0")).expect("q")).is_err());
    }
}
