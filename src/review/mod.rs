//! Review and audit (SPEC §12): what a change does to access (`diff`), the whole access matrix
//! on one page (`report --html`), the API server's audit policy (`audit-policy`) and who read
//! what from its audit logs (`audit`). Pure cores; the commands in [`crate::commands`] do the
//! I/O. None of them needs a private key (SPEC §9).

pub mod audit;
pub mod audit_policy;
pub mod diff;
pub mod diff_format;
pub mod git;
pub mod load;
pub mod report;
pub mod time;
