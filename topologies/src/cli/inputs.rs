//! Checking and expanding input paths before a run starts, so a mistake is one clear sentence
//! rather than a failed task.

use std::path::{Path, PathBuf};

use super::CliError;

/// Every regular file named by `paths`, directories expanded recursively (sorted, so runs are
/// repeatable).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| CliError::new(format!("cannot read input {}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut files)?;
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CliError::new(format!("cannot read directory {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Fails unless `path` is a readable regular file.
pub fn require_file(path: &Path) -> Result<(), CliError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => std::fs::File::open(path)
            .map(|_| ())
            .map_err(|e| CliError::new(format!("cannot read input file {}: {e}", path.display()))),
        Ok(_) => Err(CliError::new(format!(
            "input {} is not a regular file",
            path.display()
        ))),
        Err(e) => Err(CliError::new(format!(
            "cannot read input file {}: {e}",
            path.display()
        ))),
    }
}

/// Fails now, not after the whole run, unless an output file can be created at `path`. Creates
/// and removes a temporary file beside it; an existing file at `path` is left as it is (the run
/// replaces it only when it succeeds).
pub fn require_writable(path: &Path) -> Result<(), CliError> {
    squall_connectors::file::StagedFile::create(path)
        .map(drop)
        .map_err(|e| CliError::new(e.to_string()))
}

/// Fails now, not after the whole run, when `--report DIR` names something that is not a
/// directory.
pub fn require_report_dir(dir: &Path) -> Result<(), CliError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(CliError::new(format!(
            "--report {} is not a directory (the report is several files)",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Fails if `value` is not a probability.
pub fn require_rate(flag: &str, value: f64) -> Result<(), CliError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "{flag} must be between 0 and 1, got {value}"
        )))
    }
}
