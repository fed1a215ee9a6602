//! Ringside's core: everything the softphone does, without a window. The desktop shell
//! (`src-tauri/`) and the `ringside` CLI are thin front ends over [`app::Engine`].

pub mod app;
pub mod audio;
pub mod calllog;
pub mod clock;
pub mod crm;
pub mod secrets;
pub mod settings;
pub mod sip;
pub mod store;
pub mod layout;
pub mod media;
pub mod meetings;
pub mod oauth;
