//! The wasm-bindgen tests compile the golden vectors in by name (there is no file system in wasm):
//! this host test fails when a vector file is added to `tests/vectors/` but not to `tests/wasm.rs`.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

#[test]
fn the_wasm_tests_compile_in_every_vector_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wasm_tests = fs::read_to_string(root.join("tests/wasm.rs")).unwrap();
    let mut seen = 0;
    for entry in fs::read_dir(root.join("../tests/vectors")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let name = path.file_name().unwrap().to_str().unwrap();
            let include = format!("include_str!(\"../../tests/vectors/{name}\")");
            assert!(
                wasm_tests.contains(&include),
                "tests/wasm.rs does not include {name}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 6, "found only {seen} vector files");
}
