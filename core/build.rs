//! Builds the one C helper keel-core has: long double float increments (see src/types/longdouble.c).

fn main() {
    println!("cargo:rerun-if-changed=src/types/longdouble.c");
    cc::Build::new()
        .file("src/types/longdouble.c")
        .warnings(true)
        .compile("keel_longdouble");
}
