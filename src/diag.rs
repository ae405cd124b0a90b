//! Diagnostics: every problem found in a run, with its place, collected and reported all at once.
//!
//! A diagnostic names its place as a path relative to the vault directory plus a line where one is
//! known, and the key where one applies. Messages never carry a secret value: callers build them
//! from names, keys, paths and rule patterns only.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The run renders nothing.
    Error,
    /// Rendered anyway; probably a mistake.
    Warning,
    /// A summary.
    Info,
}

impl Severity {
    /// The word used in messages and KRM results.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The Kubernetes object a diagnostic is about (KRM `resourceRef`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceRef {
    /// `v1`, `rbac.authorization.k8s.io/v1`, ...
    pub api_version: String,
    /// Object kind.
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Namespace, if namespaced.
    pub namespace: Option<String>,
}

/// One problem or note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error, warning or info.
    pub severity: Severity,
    /// Path relative to the vault directory (`kvstore/app/db.yaml`); empty when not about a file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The message, naming the key where one applies; never a value.
    pub message: String,
    /// The object concerned, when there is one.
    pub resource: Option<ResourceRef>,
}

impl Diagnostic {
    /// An error at `path` (may be empty).
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path, message)
    }

    /// A warning at `path` (may be empty).
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path, message)
    }

    fn new(severity: Severity, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            path: path.into(),
            line: None,
            message: message.into(),
            resource: None,
        }
    }

    /// Sets the line (0 means unknown).
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }

    /// Sets the object concerned.
    pub fn about(mut self, resource: ResourceRef) -> Self {
        self.resource = Some(resource);
        self
    }

    /// `path:line` (or `path`, or empty).
    pub fn location(&self) -> String {
        match self.line {
            Some(line) if !self.path.is_empty() => format!("{}:{line}", self.path),
            _ => self.path.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line: severity: message`, the form editors and pre-commit hooks understand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location();
        if location.is_empty() {
            write!(f, "{}: {}", self.severity.as_str(), self.message)
        } else {
            write!(
                f,
                "{location}: {}: {}",
                self.severity.as_str(),
                self.message
            )
        }
    }
}

/// All diagnostics of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds all of another set.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|d| d.severity == severity).count()
    }

    /// `--strict` / `spec.strict`: every warning becomes an error, saying so.
    pub fn promote_warnings(&mut self) {
        for d in &mut self.0 {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
                d.message
                    .push_str(" (a warning; --strict / spec.strict makes it an error)");
            }
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorted by path, line, severity and message: the order every mode reports in.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.0.iter().collect();
        v.sort_by(|a, b| {
            (&a.path, a.line, a.severity, &a.message)
                .cmp(&(&b.path, b.line, b.severity, &b.message))
        });
        v.dedup();
        v
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Self {
        Diagnostics(v)
    }
}
