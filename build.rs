//! Compiles `csrc/jpeg_scanlines.c`, a small shim over libjpeg-turbo's scanline API, against
//! the headers of the libjpeg-turbo that `turbojpeg-sys` builds (and links) for us.

fn main() {
    println!("cargo:rerun-if-changed=csrc/jpeg_scanlines.c");
    println!("cargo:rerun-if-env-changed=DEP_TURBOJPEG_INCLUDE");
    let mut build = cc::Build::new();
    build
        .file("csrc/jpeg_scanlines.c")
        .warnings(true)
        .extra_warnings(true);
    // turbojpeg-sys exports its include directories (comma separated) as `include`.
    if let Ok(paths) = std::env::var("DEP_TURBOJPEG_INCLUDE") {
        for path in paths.split(',').filter(|p| !p.is_empty()) {
            build.include(path);
        }
    }
    build.compile("mindee_prep_jpeg_scanlines");
}
