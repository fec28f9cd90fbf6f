//! Embeds the web console's built files (`console/dist/`, committed; built from `console/src` by
//! `npm run build` there, and checked against its source by `scripts/test-console`) into the binary:
//! writes `$OUT_DIR/console_files.rs`, a table of `(path, include_bytes!(...))` sorted by path, so
//! `cargo run -p origin` serves the console with no Node step. The directory is walked here because
//! Vite names its assets by content hash, so the list of files changes with every build of the
//! console.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
            .path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest.join("../console/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    assert!(
        dist.join("index.html").is_file(),
        "{} has no index.html: the built console is committed; rebuild it with `npm ci && npm run build` in console/",
        dist.display()
    );
    let mut files = Vec::new();
    walk(&dist, &mut files);
    let mut table = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(&dist)
            .expect("walked from dist")
            .components()
            .map(|c| c.as_os_str().to_str().expect("UTF-8 file names"))
            .collect::<Vec<_>>()
            .join("/");
        let absolute = fs::canonicalize(file).expect("the file exists");
        table.push((relative, absolute));
    }
    table.sort();
    let mut out = String::from("/// The console's files, by path under `console/dist/`, sorted.\npub static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &table {
        writeln!(
            out,
            "    ({relative:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        )
        .expect("writes to a String");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("console_files.rs");
    fs::write(&target, out)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", target.display()));
}
