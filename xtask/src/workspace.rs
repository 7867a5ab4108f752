//! Where things live: the workspace root and the git-ignored `.comanda/` state directory.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}

/// `.comanda/logs/<name>.log`: stdout and stderr of a process xtask started.
pub fn log_file(name: &str) -> PathBuf {
    root().join(".comanda/logs").join(format!("{name}.log"))
}

/// `.comanda/pids/<name>.pid`: the pid of a process xtask started and must stop later.
pub fn pid_file(name: &str) -> PathBuf {
    root().join(".comanda/pids").join(format!("{name}.pid"))
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// `path` relative to the workspace root when it is inside it, for shorter messages.
pub fn relative(path: &Path) -> PathBuf {
    let root = root();
    path.strip_prefix(&root).unwrap_or(path).to_path_buf()
}
