//! `kubevault install DIR` and `kubevault install-plugin`: put the running binary where an
//! orchestrator looks for it, without a shell.
//!
//! `install` is for Argo CD: an initContainer running the distroless kubevault image copies the
//! binary into a shared volume (`kubevault install /custom-tools`), so the repo-server's built-in
//! kustomize can run it as an exec function. `install-plugin` creates the legacy kustomize exec
//! plugin layout, `<plugin home>/kubevault.dev/v1alpha1/kubevault/KubeVault`, the only
//! non-container route that works in `kubectl kustomize --enable-alpha-plugins`. The plugin home
//! is found the way kustomize finds it: `$KUSTOMIZE_PLUGIN_HOME`, else
//! `$XDG_CONFIG_HOME/kustomize/plugin`, else `$HOME/.config/kustomize/plugin`.
//!
//! Both copy through a temporary file in the target directory and rename it into place, so a
//! binary that is running (or a half-written copy) is never seen under the final name.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::exit::Exit;
use crate::report::Report;

/// File name of the binary that `install` writes.
pub const BINARY_NAME: &str = "kubevault";
/// Where kustomize looks for the legacy exec plugin of `kubevault.dev/v1alpha1` `KubeVault`,
/// relative to the plugin home: `<group>/<version>/<lowercase kind>/<Kind>`.
pub const PLUGIN_PATH: &str = "kubevault.dev/v1alpha1/kubevault/KubeVault";

/// `kubevault install DIR`: copies the running binary to `DIR/kubevault` (DIR is created).
pub fn install(dir: &Path, cwd: &Path) -> anyhow::Result<Report> {
    let source = running_binary()?;
    let target = cwd.join(dir).join(BINARY_NAME);
    copy_executable(&source, &target)?;
    Ok(Report {
        stdout: Vec::new(),
        messages: vec![format!("installed {}", target.display())],
        exit: Exit::Success,
    })
}

/// `kubevault install-plugin [--plugin-home DIR]`: copies the running binary to
/// `<plugin home>/kubevault.dev/v1alpha1/kubevault/KubeVault`.
pub fn install_plugin(plugin_home: Option<&Path>, cwd: &Path) -> anyhow::Result<Report> {
    let home = cwd.join(resolve_plugin_home(plugin_home, |name| {
        std::env::var_os(name)
    })?);
    let source = running_binary()?;
    let target = home.join(PLUGIN_PATH);
    copy_executable(&source, &target)?;
    Ok(Report {
        stdout: Vec::new(),
        messages: vec![
            format!("installed {}", target.display()),
            format!(
                "run it with: KUSTOMIZE_PLUGIN_HOME={} kubectl kustomize --enable-alpha-plugins DIR",
                home.display()
            ),
        ],
        exit: Exit::Success,
    })
}

/// The plugin home, as kustomize finds it: the explicit directory, else
/// `$KUSTOMIZE_PLUGIN_HOME`, else `$XDG_CONFIG_HOME/kustomize/plugin`, else
/// `$HOME/.config/kustomize/plugin`. Empty variables count as unset.
pub fn resolve_plugin_home(
    explicit: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("KUSTOMIZE_PLUGIN_HOME") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CONFIG_HOME") {
        return Ok(dir.join("kustomize").join("plugin"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home.join(".config").join("kustomize").join("plugin"));
    }
    bail!(
        "cannot find the kustomize plugin home: give --plugin-home or set XDG_CONFIG_HOME or HOME"
    )
}

fn running_binary() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the running kubevault binary")
}

/// Copies `source` to `target` with mode 0755, creating the parent directories, through a
/// temporary file renamed into place.
fn copy_executable(source: &Path, target: &Path) -> anyhow::Result<()> {
    let parent = target
        .parent()
        .with_context(|| format!("{} has no parent directory", target.display()))?;
    fs::create_dir_all(parent)
        .with_context(|| format!("cannot create the directory {}", parent.display()))?;
    if same_file(source, target) {
        return Ok(());
    }
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(
        ".{file_name}.kubevault-install-{}",
        std::process::id()
    ));
    let result = fs::copy(source, &temp)
        .and_then(|_| fs::set_permissions(&temp, fs::Permissions::from_mode(0o755)))
        .and_then(|()| fs::rename(&temp, target));
    if let Err(err) = result {
        let _ = fs::remove_file(&temp);
        return Err(err)
            .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()));
    }
    Ok(())
}

/// True when both paths name one existing file (installing a binary onto itself).
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> io::Result<PathBuf> { p.canonicalize() };
    matches!((canon(a), canon(b)), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn plugin_home_follows_kustomize_lookup_order() {
        let all = [
            ("KUSTOMIZE_PLUGIN_HOME", "/k"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ];
        let home =
            |explicit: Option<&Path>, vars| resolve_plugin_home(explicit, env(vars)).unwrap();
        assert_eq!(home(Some(Path::new("/e")), &all), Path::new("/e"));
        assert_eq!(home(None, &all), Path::new("/k"));
        assert_eq!(home(None, &all[1..]), Path::new("/x/kustomize/plugin"));
        assert_eq!(
            home(None, &[("KUSTOMIZE_PLUGIN_HOME", ""), ("HOME", "/h")]),
            Path::new("/h/.config/kustomize/plugin")
        );
        assert!(resolve_plugin_home(None, env(&[])).is_err());
    }

    #[test]
    fn copies_an_executable_into_place_and_replaces_an_old_copy() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("src-bin");
        fs::write(&source, b"new").unwrap();
        let target = dir.path().join("a/b/KubeVault");
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, b"old").unwrap();
        copy_executable(&source, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let leftovers: Vec<_> = fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![OsString::from("KubeVault")]);
        copy_executable(&target, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }
}
