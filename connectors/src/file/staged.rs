//! Output files that appear whole or not at all.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::FileError;

/// An output file written under a temporary name in its destination's directory and renamed
/// onto the destination by [`StagedFile::commit`].
///
/// Until the commit an existing file at the destination is untouched; dropped uncommitted (a
/// failed run), the temporary file is removed. A killed process can leave the temporary file
/// behind, named `.NAME.XXXXXX.tmp`, never a file that looks complete under the destination's
/// name. The rename is atomic because both names are in one directory.
///
/// A destination that exists and is not a regular file (`/dev/null`, a FIFO, a terminal) is
/// written directly: there is nothing there to protect, and a rename would replace the device
/// with a file.
///
/// ```
/// use std::io::Write;
/// use squall_connectors::file::StagedFile;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("counts.tsv");
/// std::fs::write(&path, "old\n")?;
/// let mut out = StagedFile::create(&path)?;
/// writeln!(out, "new")?;
/// assert_eq!(std::fs::read_to_string(&path)?, "old\n");
/// out.commit()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "new\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    out: Out,
}

/// Where the data goes until the commit.
#[derive(Debug)]
enum Out {
    /// A temporary file beside the destination, renamed onto it at the commit.
    Staged(NamedTempFile),
    /// The destination itself, which is not a regular file.
    Direct(File),
}

impl StagedFile {
    /// Creates the temporary file beside `target`; fails, naming `target`, when its directory
    /// is missing or not writable or when `target` is a directory.
    pub fn create(target: &Path) -> Result<Self, FileError> {
        let create_error = |source| FileError::Create {
            path: target.to_path_buf(),
            source,
        };
        if target.is_dir() {
            return Err(create_error(io::Error::other("it is a directory")));
        }
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            let file = File::options()
                .write(true)
                .open(target)
                .map_err(create_error)?;
            return Ok(StagedFile {
                target: target.to_path_buf(),
                out: Out::Direct(file),
            });
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy());
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Temporary files are private (0600); the output gets what `File::create` would give
        // it (0666 less the umask), or keeps the permissions of the file it replaces.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = std::fs::metadata(target).map_or_else(
                |_| std::fs::Permissions::from_mode(0o666),
                |m| m.permissions(),
            );
            builder.permissions(permissions);
        }
        let temp = builder.tempfile_in(dir).map_err(create_error)?;
        Ok(StagedFile {
            target: target.to_path_buf(),
            out: Out::Staged(temp),
        })
    }

    /// The destination.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where the data is until the commit (the destination when it is not a regular file).
    pub fn temp_path(&self) -> &Path {
        match &self.out {
            Out::Staged(temp) => temp.path(),
            Out::Direct(_) => &self.target,
        }
    }

    /// The file written meanwhile.
    pub fn file(&mut self) -> &mut File {
        match &mut self.out {
            Out::Staged(temp) => temp.as_file_mut(),
            Out::Direct(file) => file,
        }
    }

    /// Flushes and renames the temporary file onto the destination, replacing what was there.
    pub fn commit(mut self) -> Result<(), FileError> {
        let target = self.target;
        self.out.flush().map_err(|source| FileError::Create {
            path: target.clone(),
            source,
        })?;
        let Out::Staged(temp) = self.out else {
            return Ok(());
        };
        temp.persist(&target)
            .map(drop)
            .map_err(|e| FileError::Create {
                path: target,
                source: e.error,
            })
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Staged(temp) => temp.write(buf),
            Out::Direct(file) => file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Out::Staged(temp) => temp.write_all(buf),
            Out::Direct(file) => file.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Staged(temp) => temp.flush(),
            Out::Direct(file) => file.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_uncommitted_it_leaves_the_old_file_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "precious\n").unwrap();
        let mut staged = StagedFile::create(&path).unwrap();
        staged.write_all(b"partial").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn commit_replaces_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tsv");
        std::fs::write(&path, "old content, longer than the new\n").unwrap();
        let mut staged = StagedFile::create(&path).unwrap();
        staged.write_all(b"new\n").unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_directly_and_stays_a_device() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        let mut staged = StagedFile::create(null).unwrap();
        assert_eq!(staged.temp_path(), null);
        staged.write_all(b"gone\n").unwrap();
        staged.commit().unwrap();
        let kind = std::fs::metadata(null).unwrap().file_type();
        assert!(kind.is_char_device(), "/dev/null was replaced: {kind:?}");
    }

    #[test]
    fn a_directory_or_a_missing_directory_is_refused_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = StagedFile::create(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let missing = dir.path().join("missing").join("out.tsv");
        let e = StagedFile::create(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot create ") && e.contains("missing"),
            "{e}"
        );
    }
}
