//! Baseline for docs/BENCHMARKS.md: one window, one static page, and the same
//! page-loaded probe line Ringside prints, so both are timed the same way.
fn main() {
    tauri::Builder::default()
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                eprintln!("startup-probe: page loaded");
            }
        })
        .run(tauri::generate_context!())
        .expect("hello-tauri runs");
}
