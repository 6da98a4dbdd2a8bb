//! deputy's `src/tfplugin`, reduced to what the value codec uses. A real
//! directory, so the relative paths below resolve on disk.

pub mod proto {
    pub mod tfplugin6 {
        include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
    }
}

#[path = "../../../src/tfplugin/diag.rs"]
pub mod diag;

#[path = "../../../src/tfplugin/value/mod.rs"]
pub mod value;
