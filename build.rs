//! Embeds every shipped SQL file (`sql/**` and `views/**`) into the binary, so the
//! catalog the service runs is exactly the files a support analyst reads.

use std::{env, fs, path::Path};

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    for top in ["sql", "views"] {
        println!("cargo:rerun-if-changed={top}");
        collect(&Path::new(&root).join(top), &mut files);
    }
    files.sort();
    let mut code = String::from("pub static SQL_FILES: &[(&str, &str)] = &[\n");
    for abs in &files {
        let rel = abs.strip_prefix(&format!("{root}/")).unwrap_or(abs);
        code.push_str(&format!("    ({rel:?}, include_str!({abs:?})),\n"));
    }
    code.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("sql_files.rs");
    fs::write(out, code).expect("write sql_files.rs");

    // The SQL Server suites run only when a connection string is given; otherwise
    // they are compiled as `#[ignore]` with a reason, so `cargo test` says so plainly.
    println!("cargo:rerun-if-env-changed=PATCHES_TEST_MSSQL");
    println!("cargo::rustc-check-cfg=cfg(mssql_tests)");
    if env::var("PATCHES_TEST_MSSQL").is_ok_and(|v| !v.trim().is_empty()) {
        println!("cargo:rustc-cfg=mssql_tests");
    }
}
