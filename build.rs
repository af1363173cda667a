// Embedded at compile time, so rebuild when they change:
// - the migrations (sqlx::migrate!);
// - the SQL functions under sql/, one file each: this writes $OUT_DIR/sql_files.rs, a list of
//   (file name, contents) in name order, which src/store/migrate.rs applies.
use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=sql");
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("sql");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("the sql/ directory is part of the crate")
        .map(|entry| {
            entry
                .expect("readable sql/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    let mut out = String::from("pub const SQL_FILES: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let target = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("sql_files.rs");
    fs::write(target, out).expect("OUT_DIR is writable");
}
