//! Reading a bundle someone handed us, safely: a zip or a folder, refusing absolute paths, `..`, symlinks,
//! duplicate or overlapping entries, encrypted entries and zip bombs (total size and compression-ratio limits,
//! and never more bytes than an entry's header declares). Files are hashed as streams, never held whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};

/// An entry larger than this whose compression ratio exceeds `MAX_RATIO` is refused as a zip bomb.
const RATIO_CHECK_ABOVE_BYTES: u64 = 1 << 20;
/// The highest compression ratio accepted for entries above `RATIO_CHECK_ABOVE_BYTES` (JSON evidence is ~5–50).
const MAX_RATIO: u64 = 200;

/// A bundle opened for reading.
pub enum Archive {
    /// A zip file.
    Zip(zip::ZipArchive<BufReader<File>>),
    /// A folder.
    Folder(PathBuf),
}

/// A file in the bundle and its declared size.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Index in the zip (unused for folders).
    index: usize,
    /// Declared size in bytes.
    pub size: u64,
}

impl Archive {
    /// Opens a bundle and lists its files; an unsafe archive is refused with every reason found.
    pub fn open(path: &Path, max_unpacked: u64) -> Result<(Archive, BTreeMap<String, Listed>), Vec<String>> {
        let metadata = std::fs::metadata(path).map_err(|e| vec![format!("cannot open {}: {e}", path.display())])?;
        if metadata.is_dir() {
            let files = list_folder(path)?;
            Ok((Archive::Folder(path.to_path_buf()), files))
        } else if metadata.is_file() {
            let (archive, files) = open_zip(path, max_unpacked)?;
            Ok((Archive::Zip(archive), files))
        } else {
            Err(vec![format!(
                "{} is neither a regular file nor a folder (a FIFO, socket or device is never read)",
                path.display()
            )])
        }
    }

    /// The size and sha256 of a file, read as a stream; fails if a zip entry holds more or fewer bytes than declared.
    pub fn hash(&mut self, name: &str, listed: &Listed) -> Result<(u64, String)> {
        let mut hasher = Sha256::new();
        let size = self.stream(name, listed, |chunk| hasher.update(chunk))?;
        Ok((size, crate::store::hex_digest(hasher)))
    }

    /// The whole of a (small) file, at most `limit` bytes.
    pub fn read(&mut self, name: &str, listed: &Listed, limit: u64) -> Result<Vec<u8>> {
        if listed.size > limit {
            return Err(anyhow!("{name} is {} bytes, more than the {limit} this check reads", listed.size));
        }
        let mut bytes = Vec::with_capacity(listed.size as usize);
        self.stream(name, listed, |chunk| bytes.extend_from_slice(chunk))?;
        Ok(bytes)
    }

    /// A file as a stream of at most its listed size (for documents parsed without holding them whole).
    pub fn reader(&mut self, name: &str, listed: &Listed) -> Result<Box<dyn Read + '_>> {
        match self {
            Archive::Folder(root) => {
                let file = File::open(root.join(name))?;
                if !file.metadata()?.is_file() {
                    return Err(anyhow!("{name} is no longer a regular file"));
                }
                Ok(Box::new(BufReader::new(file.take(listed.size))))
            }
            Archive::Zip(archive) => Ok(Box::new(BufReader::new(archive.by_index(listed.index)?.take(listed.size)))),
        }
    }

    fn stream(&mut self, name: &str, listed: &Listed, mut each: impl FnMut(&[u8])) -> Result<u64> {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let mut pump = |reader: &mut dyn Read| -> Result<u64> {
            loop {
                let read = reader.read(&mut buffer)?;
                if read == 0 {
                    return Ok(total);
                }
                total += read as u64;
                each(&buffer[..read]);
            }
        };
        match self {
            Archive::Folder(root) => {
                // Listed as a regular file of this size; a file that changed into more since is not read past it.
                let file = File::open(root.join(name))?;
                if !file.metadata()?.is_file() {
                    return Err(anyhow!("{name} is no longer a regular file"));
                }
                let read = pump(&mut file.take(listed.size + 1))?;
                if read != listed.size {
                    return Err(anyhow!("{name} holds {read} bytes where {} were listed", listed.size));
                }
                Ok(read)
            }
            Archive::Zip(archive) => {
                let entry = archive.by_index(listed.index)?;
                // Never inflate past the declared size: a header that lies is caught, not obeyed.
                let mut limited = entry.take(listed.size + 1);
                let read = pump(&mut limited)?;
                if read != listed.size {
                    return Err(anyhow!("{name} holds {read} bytes but its zip header declares {}", listed.size));
                }
                Ok(read)
            }
        }
    }
}

/// A path inside a bundle is safe when it is relative, `/`-separated and never climbs out.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":") {
        Some("an absolute path")
    } else if name.contains('\\') {
        Some("a backslash in the path")
    } else if name.chars().any(crate::terminal::is_unsafe) {
        Some("control characters in the path")
    } else if name.split('/').any(|part| part == "..") {
        Some("a `..` component that climbs out of the bundle")
    } else if name.split('/').any(|part| part.is_empty() || part == ".") && !name.ends_with('/') {
        Some("an empty or `.` path component")
    } else {
        None
    }
}

/// An open zip and its files.
type OpenedZip = (zip::ZipArchive<BufReader<File>>, BTreeMap<String, Listed>);

fn open_zip(path: &Path, max_unpacked: u64) -> Result<OpenedZip, Vec<String>> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| vec![format!("cannot open {shown}: {e}")])?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| vec![format!("{shown} is not a readable zip file: {e}")])?;
    let mut problems = Vec::new();
    match central_directory_names(path, archive.central_directory_start()) {
        Ok(names) if names.len() < archive.len() => problems.push(format!(
            "the zip's central directory lists {} entries where {} were expected",
            names.len(),
            archive.len()
        )),
        Ok(mut names) => {
            names.sort_unstable();
            for run in names.chunk_by(|a, b| a == b).filter(|run| run.len() > 1) {
                problems.push(format!("the zip holds {} entries named {:?} (duplicate names)", run.len(), run[0]));
            }
        }
        Err(error) => problems.push(format!("the zip's central directory is unreadable: {error}")),
    }
    if archive.has_overlapping_files().unwrap_or(true) {
        problems.push("entries overlap inside the zip (a zip-bomb technique)".to_string());
    }
    let mut files = BTreeMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = match archive.by_index_raw(index) {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(format!("zip entry #{index} is unreadable: {error}"));
                continue;
            }
        };
        let name = entry.name().to_string();
        if let Some(why) = unsafe_name(&name) {
            problems.push(format!("entry {name:?} has {why}"));
            continue;
        }
        if entry.is_symlink() {
            problems.push(format!("entry {name:?} is a symbolic link"));
            continue;
        }
        if entry.encrypted() {
            problems.push(format!("entry {name:?} is encrypted"));
            continue;
        }
        if entry.is_dir() {
            continue;
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > RATIO_CHECK_ABOVE_BYTES && size / compressed.max(1) > MAX_RATIO {
            problems.push(format!(
                "entry {name:?} inflates {compressed} bytes to {size} (ratio above {MAX_RATIO}:1, a zip bomb)"
            ));
            continue;
        }
        total = total.saturating_add(size);
        files.insert(name, Listed { index, size });
    }
    if total > max_unpacked {
        problems.push(format!(
            "the zip's files add up to {total} bytes uncompressed, more than the limit of {max_unpacked} \
             (raise it with --max-size if the bundle is genuinely that large)"
        ));
    }
    if problems.is_empty() {
        Ok((archive, files))
    } else {
        Err(problems)
    }
}

/// The names in the zip's central directory, duplicates included (the zip library keeps only the last of each).
fn central_directory_names(path: &Path, start: u64) -> Result<Vec<String>> {
    const HEADER: u32 = 0x0201_4b50;
    let mut file = BufReader::new(File::open(path)?);
    file.seek(SeekFrom::Start(start))?;
    let mut names = Vec::new();
    let mut fixed = [0u8; 46];
    loop {
        if file.read_exact(&mut fixed).is_err() || u32::from_le_bytes(fixed[..4].try_into()?) != HEADER {
            break;
        }
        let length = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (length(28), length(30), length(32));
        let mut name = vec![0u8; name_len];
        file.read_exact(&mut name)?;
        file.seek(SeekFrom::Current((extra_len + comment_len) as i64))?;
        names.push(String::from_utf8_lossy(&name).into_owned());
    }
    Ok(names)
}

fn list_folder(root: &Path) -> Result<BTreeMap<String, Listed>, Vec<String>> {
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                problems.push(format!("cannot read {}: {error}", dir.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let child = relative.join(entry.file_name());
            let name = child.to_string_lossy().replace('\\', "/");
            if name.chars().any(crate::terminal::is_unsafe) {
                problems.push(format!("{} has control characters in its name", crate::terminal::escaped(&name)));
                continue;
            }
            match entry.path().symlink_metadata() {
                Ok(meta) if meta.file_type().is_symlink() => {
                    problems.push(format!("{name} is a symbolic link"));
                }
                Ok(meta) if meta.is_dir() => pending.push(child),
                Ok(meta) if meta.is_file() => {
                    files.insert(name, Listed { index: 0, size: meta.len() });
                }
                Ok(_) => {
                    problems.push(format!("{name} is not a regular file (a FIFO, socket or device is never read)"))
                }
                Err(error) => problems.push(format!("cannot read {name}: {error}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_climb_out_or_are_absolute_are_unsafe() {
        assert!(unsafe_name("evidence/ab/abcd").is_none());
        assert!(unsafe_name("populations/SRC-01.csv").is_none());
        for bad in ["/etc/passwd", "../x", "a/../../x", "C:/x", "a\\b", "a//b", "./a", "a\nb", "a\0b", "\u{1b}[2J"] {
            assert!(unsafe_name(bad).is_some(), "{bad} must be refused");
        }
    }
}
