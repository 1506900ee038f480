//! Bearer tokens for the suites: read from a file (one per line), checked to be usable in a
//! header, and, for `invalid-tokens`, a built-in set of forged and malformed ones. Tokens are
//! secrets: errors name line numbers, and `Tokens` prints only how many it holds.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::LoadError;

/// A pool of tokens, used round-robin.
#[derive(Clone, Default)]
pub struct Tokens(Vec<String>);

// === impl Tokens ===

impl Tokens {
    /// Reads `path`: one token per line; blank lines and lines starting with `#` are skipped.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::ReadFile { path: path.to_owned(), source })?;
        let tokens = Self::parse(&text)
            .map_err(|reason| LoadError::Tokens { path: path.to_owned(), reason })?;
        if tokens.is_empty() {
            let reason = "holds no tokens".to_owned();
            return Err(LoadError::Tokens { path: path.to_owned(), reason });
        }
        Ok(tokens)
    }

    /// Parses the file's text; the error names the offending line, not its content.
    fn parse(text: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // RFC 6750 §2.1 b64token characters; anything else would break the header.
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
            if !line.chars().all(allowed) {
                return Err(format!("line {} is not a bearer token (bad characters)", number + 1));
            }
            tokens.push(line.to_owned());
        }
        Ok(Self(tokens))
    }

    /// A varied set of tokens no verifier should accept: malformed, unsigned, forged.
    pub fn invalid() -> Self {
        let header = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let claims = URL_SAFE_NO_PAD.encode(concat!(
            r#"{"iss":"https://invalid.loadtest.invalid","sub":"loadtest","#,
            r#""aud":"skybridge","exp":4102444800}"#
        ));
        let mut tokens = vec![
            "not-a-jwt".to_owned(),
            format!("{}.{claims}", header(r#"{"alg":"RS256"}"#)),
            format!("{}.{claims}.", header(r#"{"alg":"none","typ":"JWT"}"#)),
            format!("{}.{claims}.AAAA", header(r#"{"alg":"HS256","typ":"JWT"}"#)),
            format!("{}.e30.AAAA", header(r#"{"alg":"RS256","typ":"JWT","kid":"loadtest"}"#)),
        ];
        // Well-formed RS256 and ES256 tokens with signatures that cannot verify.
        for (index, alg) in ["RS256", "ES256"].iter().cycle().take(32).enumerate() {
            let size = if *alg == "RS256" { 256 } else { 64 };
            let signature: Vec<u8> = (0..size).map(|i| (i * 31 + index * 7) as u8).collect();
            tokens.push(format!(
                "{}.{claims}.{}",
                header(&format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"loadtest-{index}"}}"#)),
                URL_SAFE_NO_PAD.encode(signature)
            ));
        }
        Self(tokens)
    }

    /// A pool from the given tokens, unchecked (for tests).
    #[cfg(test)]
    pub(crate) fn from_vec(tokens: Vec<String>) -> Self {
        Self(tokens)
    }

    /// The first `n` tokens of `tokens`.
    pub fn first(tokens: &Self, n: usize) -> Self {
        Self(tokens.0.iter().take(n).cloned().collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many different tokens the pool holds.
    pub fn distinct(&self) -> usize {
        self.0.iter().collect::<HashSet<_>>().len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} redacted)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_skips_comments() {
        let tokens = Tokens::parse("# pool\naaa.bbb.ccc\n\n  ddd.eee.fff  \naaa.bbb.ccc\n")
            .expect("test step");
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens.distinct(), 2);
        assert_eq!(format!("{tokens:?}"), "Tokens(3 redacted)");
    }

    #[test]
    fn bad_lines_are_named_without_content() {
        let err = Tokens::parse("good\nsecret value\n").expect_err("must fail");
        assert_eq!(err, "line 2 is not a bearer token (bad characters)");
        assert!(!err.contains("secret"));
    }

    #[test]
    fn empty_file_is_refused() {
        let dir = tempfile::tempdir().expect("test step");
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# nothing\n").expect("test step");
        assert!(matches!(Tokens::read(&path), Err(LoadError::Tokens { .. })));
        assert!(matches!(
            Tokens::read(&dir.path().join("missing")),
            Err(LoadError::ReadFile { .. })
        ));
    }

    #[test]
    fn invalid_tokens_are_distinct_and_header_safe() {
        let tokens = Tokens::invalid();
        assert!(tokens.len() > 30);
        assert_eq!(tokens.distinct(), tokens.len());
        let text: Vec<&str> = tokens.iter().collect();
        assert!(Tokens::parse(&text.join("\n")).is_ok());
    }
}
