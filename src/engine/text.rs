//! The one rule for the free text a request carries: display names,
//! reasons, module titles and links, rank names. Such text ends up in
//! back-office screens, audit exports, logs and terminals, where a control
//! character (NUL, ESC of an ANSI sequence, DEL, C1) or a bidirectional
//! override (U+202E shows `exe.txt` as `txt.exe`) would change what the
//! reader sees. Every free-text field is checked by [`check_text`] alone,
//! so they all refuse the same characters with the same message.

use super::error::{EngineError, EngineResult};

/// The bidirectional formatting characters: marks (ALM, LRM, RLM),
/// embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates (LRI, RLI,
/// FSI, PDI).
const BIDI_FORMATTING: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// What kind of character the rule refuses, for the message; `None` for a
/// character free text may hold.
fn refused_kind(c: char) -> Option<&'static str> {
    if c.is_control() {
        Some("the control character")
    } else if BIDI_FORMATTING.contains(&c) {
        Some("the bidirectional formatting character")
    } else if c == '\u{2028}' || c == '\u{2029}' {
        Some("the line separator")
    } else {
        None
    }
}

/// Checks a free-text field: at most `max_bytes` bytes, no control
/// character (Unicode category Cc), no bidirectional formatting character,
/// no line or paragraph separator, and no blank at either end. Empty text
/// passes (fields that need text say so themselves). The message names the
/// field and the offending character's code point
/// (`display_name: contains the control character U+001B`).
pub fn check_text(field: &str, text: &str, max_bytes: usize) -> EngineResult<()> {
    match text_refusal(text, max_bytes) {
        Some(message) => Err(EngineError::invalid(field, message)),
        None => Ok(()),
    }
}

/// Why [`check_text`] refuses `text`, without the field (for callers that
/// collect violations by field themselves, like a plan's).
pub fn text_refusal(text: &str, max_bytes: usize) -> Option<String> {
    if text.len() > max_bytes {
        return Some(format!("is {} bytes long; at most {max_bytes} are allowed", text.len()));
    }
    if let Some((c, kind)) = text.chars().find_map(|c| refused_kind(c).map(|kind| (c, kind))) {
        return Some(format!("contains {kind} U+{:04X}", u32::from(c)));
    }
    if text.trim() != text {
        return Some("has blanks at its start or end".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        check_text("display_name", text, 200).unwrap_err().to_string()
    }

    #[test]
    fn refuses_invisible_and_reordering_characters_by_code_point() {
        assert_eq!(message("a\0b"), "display_name: contains the control character U+0000");
        assert_eq!(message("\u{1b}[31mred"), "display_name: contains the control character U+001B");
        assert_eq!(message("a\u{7f}"), "display_name: contains the control character U+007F");
        assert_eq!(message("a\u{85}b"), "display_name: contains the control character U+0085");
        assert_eq!(message("a\tb"), "display_name: contains the control character U+0009");
        for c in BIDI_FORMATTING {
            let want = format!("display_name: contains the bidirectional formatting character U+{:04X}", u32::from(c));
            assert_eq!(message(&format!("x{c}y")), want);
        }
        assert_eq!(message("a\u{2028}b"), "display_name: contains the line separator U+2028");
        assert_eq!(message(" Ann"), "display_name: has blanks at its start or end");
        assert_eq!(message("Ann\u{3000}"), "display_name: has blanks at its start or end");
        assert_eq!(message(&"n".repeat(201)), "display_name: is 201 bytes long; at most 200 are allowed");
    }

    #[test]
    fn accepts_ordinary_text_of_any_script() {
        for ok in ["", "Ann", "Kïd (ü)", "José María", "محمد", "李小龍", "emoji 🙂", "a  b", "Zoë\u{200D}x"]
        {
            assert_eq!(check_text("display_name", ok, 200), Ok(()), "{ok:?}");
        }
    }
}
