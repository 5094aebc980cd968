//! Where a job's files go, and the renames that commit them (Hadoop's `FileOutputCommitter`).
//!
//! ```text
//! OUTPUT/
//!   _temporary/                    removed when the job commits
//!     attempt_m_00003_1/           a map attempt's spilled runs, while it runs
//!     map_00003/                   ... renamed here when it commits: the task's map output
//!     attempt_r_00001_0.part       a reduce attempt's output, while it runs
//!   part-r-00001                   ... renamed here when it commits
//!   _SUCCESS                       written last, once every reduce task has committed
//! ```
//!
//! A rename within one directory tree is atomic, so an attempt's output appears whole or not at
//! all, and a failed or killed attempt leaves nothing behind but its attempt path, which is
//! removed.

use std::path::{Path, PathBuf};

use super::JobError;

/// The paths of one job.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    output: PathBuf,
    temp: PathBuf,
}

impl Layout {
    pub(crate) fn new(output: &Path) -> Self {
        Layout {
            output: output.to_path_buf(),
            temp: output.join("_temporary"),
        }
    }

    /// Creates the output directory and its temporary area; fails if the output exists.
    pub(crate) fn create(&self) -> Result<(), JobError> {
        if std::fs::symlink_metadata(&self.output).is_ok() {
            return Err(JobError::OutputExists(self.output.clone()));
        }
        if let Some(parent) = self.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| JobError::io("create", parent, e))?;
        }
        // `create_dir`, not `create_dir_all`: if another process made it meanwhile, refuse.
        std::fs::create_dir(&self.output).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => JobError::OutputExists(self.output.clone()),
            _ => JobError::io("create", &self.output, e),
        })?;
        std::fs::create_dir(&self.temp).map_err(|e| {
            self.abort();
            JobError::io("create", &self.temp, e)
        })
    }

    pub(crate) fn map_attempt_dir(&self, task: usize, attempt: u32) -> PathBuf {
        self.temp.join(format!("attempt_m_{task:05}_{attempt}"))
    }

    pub(crate) fn map_output_dir(&self, task: usize) -> PathBuf {
        self.temp.join(format!("map_{task:05}"))
    }

    pub(crate) fn reduce_attempt_file(&self, partition: usize, attempt: u32) -> PathBuf {
        self.temp
            .join(format!("attempt_r_{partition:05}_{attempt}.part"))
    }

    pub(crate) fn part_file(&self, partition: usize) -> PathBuf {
        self.output.join(format!("part-r-{partition:05}"))
    }

    /// Job commit: the temporary area goes, then `_SUCCESS` is written, last.
    pub(crate) fn commit_job(&self) -> Result<(), JobError> {
        self.remove_temp();
        let success = self.output.join("_SUCCESS");
        std::fs::File::create(&success)
            .map(drop)
            .map_err(|e| JobError::io("create", &success, e))
    }

    /// Job abort (a failed or interrupted job): removes the output directory, which `create`
    /// made (it refuses an existing one), so that running the job again is not refused; best
    /// effort.
    pub(crate) fn abort(&self) {
        let _ = std::fs::remove_dir_all(&self.output);
    }

    /// Removes the temporary area (job commit or abort); best effort.
    pub(crate) fn remove_temp(&self) {
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

/// Renames `from` to `to` (the commit of one attempt).
pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), JobError> {
    std::fs::rename(from, to).map_err(|e| JobError::io("rename", from, e))
}

/// Removes what a failed or killed attempt left; best effort (the job's temporary area goes
/// at the end anyway).
pub(crate) fn discard(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_output_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("keep"), "x").unwrap();
        let e = Layout::new(&out).create().unwrap_err();
        assert!(matches!(e, JobError::OutputExists(_)));
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    }

    #[test]
    fn job_abort_removes_the_output_it_created() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let layout = Layout::new(&out);
        layout.create().unwrap();
        std::fs::write(layout.part_file(0), "partial").unwrap();
        layout.abort();
        assert!(!out.exists());
        layout.create().unwrap();
    }

    #[test]
    fn job_commit_removes_the_temporary_area_and_writes_success() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("a/out"));
        layout.create().unwrap();
        std::fs::create_dir(layout.map_attempt_dir(0, 0)).unwrap();
        layout.commit_job().unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path().join("a/out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["_SUCCESS"]);
    }
}
