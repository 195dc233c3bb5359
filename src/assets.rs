//! The bundled assets (MNIST and the pretrained teacher and student), found wherever the binary
//! runs: beside the source tree in a checkout, beside the binary (`assets/` next to it), or
//! unpacked from copies embedded in the binary into the platform's data folder, so that
//! `cargo install` or a copied binary still opens on the bundled MNIST with the shipped models.
//!
//! Paths inside the bundle are written as `@assets/<file>` in configs, so a config refers to
//! "the shipped teacher" and reruns on any machine. A leaf module: it imports only `files`.

use std::path::{Path, PathBuf};

use crate::files::{write_atomic, FileError};

/// Prefix of a path inside the bundle, as written in configs.
pub const MARKER: &str = "@assets";

/// Overrides the folder of MNIST-format IDX files used when no `--data-dir` is given.
pub const DATA_ENV: &str = "DISTILLERY_DATA";

/// The shipped teacher's file name inside the bundle.
pub const TEACHER: &str = "teacher.safetensors";
/// The shipped student's file name inside the bundle.
pub const STUDENT: &str = "student.safetensors";

/// Every bundled file with its embedded bytes.
const EMBEDDED: [(&str, &[u8]); 6] = [
    (
        "mnist/train-images-idx3-ubyte.gz",
        include_bytes!("../assets/mnist/train-images-idx3-ubyte.gz"),
    ),
    (
        "mnist/train-labels-idx1-ubyte.gz",
        include_bytes!("../assets/mnist/train-labels-idx1-ubyte.gz"),
    ),
    (
        "mnist/t10k-images-idx3-ubyte.gz",
        include_bytes!("../assets/mnist/t10k-images-idx3-ubyte.gz"),
    ),
    (
        "mnist/t10k-labels-idx1-ubyte.gz",
        include_bytes!("../assets/mnist/t10k-labels-idx1-ubyte.gz"),
    ),
    (TEACHER, include_bytes!("../assets/teacher.safetensors")),
    (STUDENT, include_bytes!("../assets/student.safetensors")),
];

/// Whether `dir` holds every bundled file with the embedded size.
fn is_complete(dir: &Path) -> bool {
    EMBEDDED.iter().all(|(name, bytes)| {
        std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() == bytes.len() as u64)
    })
}

/// The platform data folder for unpacked assets (per version, so an upgrade unpacks anew).
fn data_home() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir);
    base.join("distillery")
        .join(format!("assets-{}", env!("CARGO_PKG_VERSION")))
}

/// Writes the embedded files into `dir` (each atomically).
fn unpack(dir: &Path) -> Result<(), FileError> {
    for (name, bytes) in EMBEDDED {
        let path = dir.join(name);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            continue;
        }
        write_atomic(&path, bytes)?;
    }
    Ok(())
}

/// The folder of bundled assets: the checkout's `assets/`, an `assets/` beside the binary, or
/// the embedded copies unpacked into the platform data folder (done once, on first use).
pub fn dir() -> PathBuf {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|p| p.join("assets")));
    let found = std::iter::once(checkout)
        .chain(beside_binary)
        .find(|d| is_complete(d));
    if let Some(dir) = found {
        return dir;
    }
    let home = data_home();
    // An unwritable data folder leaves the files missing; whoever opens them then reports
    // the path that could not be read, which names the problem.
    let _ = unpack(&home);
    home
}

/// The MNIST folder used when none is given: `$DISTILLERY_DATA`, else the bundled copy.
pub fn mnist_dir() -> PathBuf {
    std::env::var_os(DATA_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| dir().join("mnist"), PathBuf::from)
}

/// A bundled file by name (e.g. [`TEACHER`]).
pub fn file(name: &str) -> PathBuf {
    dir().join(name)
}

/// The portable spelling of `path`: `@assets/<file>` for a file inside the bundle folder,
/// otherwise `path` unchanged.
pub fn portable(path: &Path) -> PathBuf {
    let bundle = dir();
    match path.strip_prefix(&bundle) {
        Ok(rest) => Path::new(MARKER).join(rest),
        Err(_) => path.to_owned(),
    }
}

/// The real location of a path that may start with `@assets/`; relative paths are taken
/// relative to `base` (e.g. the folder of the config file that names them).
pub fn resolve(path: &Path, base: Option<&Path>) -> PathBuf {
    if let Ok(rest) = path.strip_prefix(MARKER) {
        return dir().join(rest);
    }
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_paths_round_trip_through_the_marker() {
        let teacher = file(TEACHER);
        assert!(teacher.is_file(), "{}", teacher.display());
        let portable = portable(&teacher);
        assert_eq!(portable, Path::new("@assets/teacher.safetensors"));
        assert_eq!(resolve(&portable, None), teacher);
        let elsewhere = Path::new("/somewhere/else.safetensors");
        assert_eq!(super::portable(elsewhere), elsewhere);
        assert_eq!(
            resolve(Path::new("t.safetensors"), Some(Path::new("/runs/a"))),
            Path::new("/runs/a/t.safetensors")
        );
    }

    #[test]
    fn the_embedded_files_unpack_completely() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_complete(dir.path()));
        unpack(dir.path()).unwrap();
        assert!(is_complete(dir.path()));
        let labels = std::fs::read(dir.path().join("mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
        assert_eq!(labels, EMBEDDED[3].1);
    }
}
