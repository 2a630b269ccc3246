//! Lists the built-in control catalogue, report templates and demo fixtures (at the workspace root) for
//! `include_str!`, so `pipeproof demo` and the default catalogue work from any directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let workspace = manifest_dir.join("../..");
    let mut generated = String::new();
    for (name, dir) in [("CONTROLS", "controls"), ("TEMPLATES", "report-templates"), ("DEMO_FIXTURES", "fixtures/demo")]
    {
        let root = workspace.join(dir);
        // Relative to this crate, so checkouts at other paths that share the target directory each watch their own.
        println!("cargo:rerun-if-changed=../../{dir}");
        let mut files = Vec::new();
        collect_files(&root, &root, &mut files);
        writeln!(generated, "/// Files embedded from `{dir}/`: (relative path, contents).").unwrap();
        writeln!(generated, "pub static {name}: &[(&str, &str)] = &[").unwrap();
        for file in files {
            let relative = file.to_string_lossy().replace('\\', "/");
            // Relative to the crate being compiled, not to where this script last ran: checkouts at other paths
            // share the target directory (and this script's output) through `.ci/env`.
            let inside = format!("/../../{dir}/{relative}");
            writeln!(generated, "    ({relative:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {inside:?}))),")
                .unwrap();
        }
        writeln!(generated, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("embedded.rs");
    std::fs::write(out, generated).expect("write embedded.rs");
}
