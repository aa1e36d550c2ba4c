//! Compiles the Long An sample portal (`samples/long-an-stp`, beside this crate) into the
//! crate: writes `$OUT_DIR/long_an_stp.rs`, a sorted list of `(relative path,
//! include_bytes!(file))` that `src/tree.rs` serves from memory. Cargo reruns this when any
//! file under the directory is added, removed or changed.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("no CARGO_MANIFEST_DIR")?);
    let root = manifest.join("..").join("long-an-stp");
    println!("cargo::rerun-if-changed={}", root.display());
    let root = std::fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut files = Vec::new();
    collect(&root, &root, "", &mut files)?;
    if files.is_empty() {
        return Err(format!(
            "{} holds no files: the sample portal is missing",
            root.display()
        )
        .into());
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (rel, path) in &files {
        let path = path
            .to_str()
            .ok_or_else(|| format!("{}: the path is not UTF-8", path.display()))?;
        writeln!(out, "    ({rel:?}, include_bytes!({path:?})),")?;
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?);
    std::fs::write(out_dir.join("long_an_stp.rs"), out)?;
    Ok(())
}

/// Every file under `dir`, as (path relative to the portal root with `/`, absolute path). A
/// symbolic link that leads out of the portal is refused, as the server refuses it on disk.
fn collect(
    root: &Path,
    dir: &Path,
    rel: &str,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| format!("{}: the name is not UTF-8", entry.path().display()))?;
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let path = std::fs::canonicalize(entry.path())?;
        if !path.starts_with(root) {
            return Err(format!(
                "{}: it leads out of the sample portal",
                entry.path().display()
            )
            .into());
        }
        if path.is_dir() {
            collect(root, &path, &child, files)?;
        } else {
            files.push((child, path));
        }
    }
    Ok(())
}
