//! What doctor prints: one [`Link`] per checked piece of a route's chain, with its verdict,
//! the facts it found, and for a broken link the cause and the fix in plain words.
//!
//! Nothing printed here may hold a token: links carry claims and descriptions only.

use std::fmt::Write as _;

/// The verdict on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Works.
    Ok,
    /// Works, but something deserves a look (it does not fail doctor).
    Warn,
    /// Does not work; doctor exits 1.
    Broken,
    /// Not checked because an earlier link is broken.
    Skipped,
    /// Nothing to check (an anonymous route, an upstream without credential).
    Info,
}

/// One checked link of a route's chain.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// What was checked, e.g. `issuer "entra"`.
    pub(crate) subject: String,
    /// The verdict.
    pub(crate) status: Status,
    /// One line saying what was found.
    pub(crate) summary: String,
    /// Facts, one per line (claims, versions, headers).
    pub(crate) facts: Vec<String>,
    /// Why it is broken, when it is.
    pub(crate) cause: Option<String>,
    /// What to do about it.
    pub(crate) fix: Option<String>,
}

// === impl Status ===

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warn => "WARN",
            Self::Broken => "BROKEN",
            Self::Skipped => "SKIPPED",
            Self::Info => "INFO",
        }
    }
}

// === impl Link ===

impl Link {
    /// A link with `status` and `summary` and nothing else yet.
    pub(crate) fn new(
        subject: impl Into<String>,
        status: Status,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            subject: subject.into(),
            status,
            summary: summary.into(),
            facts: Vec::new(),
            cause: None,
            fix: None,
        }
    }

    /// A broken link with its cause and fix.
    pub(crate) fn broken(
        subject: impl Into<String>,
        summary: impl Into<String>,
        cause: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(subject, Status::Broken, summary).with_cause(cause, fix)
    }

    /// Sets the cause and the fix.
    pub(crate) fn with_cause(mut self, cause: impl Into<String>, fix: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self.fix = Some(fix.into());
        self
    }

    /// Adds a fact line.
    pub(crate) fn fact(mut self, fact: impl Into<String>) -> Self {
        self.facts.push(fact.into());
        self
    }

    /// Whether this link fails the run.
    pub(crate) fn is_broken(&self) -> bool {
        self.status == Status::Broken
    }

    /// The link as indented lines, ready to print.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let label = self.status.label();
        let _ = writeln!(out, "  {label:<8}{}: {}", self.subject, self.summary);
        for fact in &self.facts {
            let _ = writeln!(out, "            {fact}");
        }
        if let Some(cause) = &self.cause {
            let _ = writeln!(out, "          cause: {}", indent(cause));
        }
        if let Some(fix) = &self.fix {
            let _ = writeln!(out, "          fix:   {}", indent(fix));
        }
        out
    }
}

/// Continues multi-line text under the `cause:`/`fix:` column.
fn indent(text: &str) -> String {
    text.replace('\n', "\n                 ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_link_prints_its_cause_and_fix_aligned() {
        let link = Link::broken("upstream", "cannot connect", "refused", "start it\nthen retry")
            .fact("address 127.0.0.1:1");
        assert!(link.is_broken());
        let text = link.render();
        assert!(text.starts_with("  BROKEN  upstream: cannot connect\n"), "{text}");
        assert!(text.contains("            address 127.0.0.1:1\n"), "{text}");
        assert!(text.contains("          cause: refused\n"), "{text}");
        assert!(
            text.contains("          fix:   start it\n                 then retry\n"),
            "{text}"
        );
    }

    #[test]
    fn only_broken_links_fail_the_run() {
        for status in [Status::Ok, Status::Warn, Status::Skipped, Status::Info] {
            assert!(!Link::new("x", status, "y").is_broken());
        }
    }
}
