//! Keeping the vault and its key file inside the package (SPEC §9).
//!
//! In KRM and legacy-plugin mode, and for `generate` under Argo CD, `vaultDir` and
//! `decryption.ageKeyFile` come from files in the repository, which a pull request can change. They
//! must resolve beneath the package directory (kpt's package path, the kustomization's directory,
//! the Argo CD app directory): no absolute path, no `..` above it, no symlink leading out of it.
//! The operator allows other places with `KUBEVAULT_ALLOW_OUTSIDE=1` in kubevault's environment
//! (the container image sets it: there only what the orchestrator mounted exists).
//!
//! The check is lexical first (on the normalised path, which is also the path that is then read),
//! then the path is resolved by the kernel *beneath* a descriptor of the package directory
//! (`openat2(RESOLVE_BENEATH)`, or the walk's fallback), with `O_PATH`, which opens nothing for
//! I/O. A link out of the package fails before its target is looked at, so the answer, and the
//! message, are the same whether the place outside exists or not: refusals are no file-system
//! oracle.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::config::normalize;
use crate::vault::beneath::open_beneath;

/// The environment variable that lets the vault and key file live outside the package.
pub const ALLOW_OUTSIDE: &str = "KUBEVAULT_ALLOW_OUTSIDE";

/// A path that leads outside the package (the one answer for every reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outside;

/// True when the operator allowed paths outside the package (`KUBEVAULT_ALLOW_OUTSIDE=1`).
pub fn outside_allowed(env: &dyn Fn(&str) -> Option<String>) -> bool {
    matches!(env(ALLOW_OUTSIDE).as_deref(), Some("1" | "true"))
}

/// Checks that `path` (absolute, already normalised) lies beneath `base` without leaving it
/// through a symlink. The error is the one message for every reason.
pub fn beneath(base: &Path, path: &Path) -> Result<(), Outside> {
    let base = normalize(base);
    let Ok(rel) = path.strip_prefix(&base) else {
        return Err(Outside);
    };
    let Some(rel) = rel.to_str() else {
        return Err(Outside);
    };
    if rel.is_empty() {
        return Ok(());
    }
    let root = rustix::fs::open(
        &base,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| Outside)?;
    match open_beneath(root.as_fd(), rel, OFlags::PATH) {
        Ok(_) => Ok(()),
        // Leaves the base (or is an absolute link), or loops: refused alike.
        Err(Errno::XDEV | Errno::LOOP) => Err(Outside),
        // Lexically inside and nothing leads out on the way: the read reports what is missing.
        Err(_) => Ok(()),
    }
}

/// The message for a refused path: what was written and the package directory, never what is
/// (or is not) at the place it leads to.
pub fn refused(field: &str, written: &str, base: &Path) -> String {
    let field = if field.contains(' ') {
        field.to_string()
    } else {
        format!("`{field}`")
    };
    format!(
        "functionConfig: {field} ({written}) leads outside the package directory {}: \
         an absolute path, `..` above it or a symlink out of it; use a path inside the package, or \
         set {ALLOW_OUTSIDE}=1 in kubevault's environment to allow it",
        base.display()
    )
}

/// `written` resolved against `dir` (normalised); with a `root`, it must lie beneath `root`
/// ([`beneath`]).
pub fn resolve(dir: &Path, written: &str, root: Option<&Path>) -> Result<PathBuf, Outside> {
    let path = normalize(&dir.join(written));
    if let Some(root) = root {
        beneath(root, &path)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn inside_paths_pass_and_everything_leading_out_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = tmp.path().join("pkg");
        std::fs::create_dir_all(pkg.join("vault/kvstore")).unwrap();
        std::fs::create_dir_all(tmp.path().join("victim/vault")).unwrap();
        symlink("../victim/vault", pkg.join("stolen")).unwrap();
        symlink("../victim/nothing-here", pkg.join("dangling-out")).unwrap();
        symlink("vault", pkg.join("alias")).unwrap();
        symlink(pkg.join("vault"), pkg.join("absolute")).unwrap();
        for ok in [
            "vault",
            "./vault",
            "alias",
            "missing",
            "vault/kvstore/../kvstore",
        ] {
            assert_eq!(resolve(&pkg, ok, Some(&pkg)).map(|_| ()), Ok(()), "{ok}");
        }
        for bad in [
            "../victim/vault",
            "/etc",
            "stolen",
            "dangling-out",
            "absolute",
            "stolen/kvstore",
            "vault/../../victim/vault",
        ] {
            assert_eq!(
                resolve(&pkg, bad, Some(&pkg)).map(|_| ()),
                Err(Outside),
                "{bad}"
            );
            assert!(resolve(&pkg, bad, None).is_ok(), "{bad}");
        }
    }

    #[test]
    fn the_opt_out_is_exact() {
        assert!(outside_allowed(&|_| Some("1".into())));
        assert!(!outside_allowed(&|_| Some("0".into())));
        assert!(!outside_allowed(&|_| Some("yes".into())));
        assert!(!outside_allowed(&|_| None));
    }
}
