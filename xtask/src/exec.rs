//! Running child commands as named steps.

use std::{
    env,
    ffi::OsStr,
    path::PathBuf,
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::workspace;

/// A `cargo` command run from the workspace root.
pub fn cargo() -> Command {
    // Plain `cargo` (the rustup proxy) rather than `$CARGO`, so subcommands such as
    // `cargo fmt`, `cargo clippy` and `cargo nextest` resolve the usual way.
    let mut command = Command::new("cargo");
    command.current_dir(workspace::root());
    command
}

/// Runs `command` with inherited stdio; an error names `step` when it fails.
pub fn step(step: &str, command: &mut Command) -> Result<()> {
    say!("{step}: {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("{step}: could not start `{}`", display(command)))?;
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

/// Runs `command` quietly and returns its stdout; an error carries its stderr.
pub fn output(command: &mut Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", display(command)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The full path of `program` if it is an executable file in a `PATH` directory.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// Whether `path` is a file with an execute bit set.
pub fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `program arg1 arg2`, for progress lines and error messages.
pub fn display(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}
