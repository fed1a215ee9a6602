//! Ringside's integration tests: one binary, one module per area.

mod audio;
#[path = "../support/baresip_ctl.rs"]
mod baresip_ctl;
mod calllog;
mod calls;
mod incoming;
mod layouts;
mod held;
mod meetings;
mod webex;
mod zoom;
mod cli;
mod salesforce;
mod dns;
mod engine;
mod registration;
mod secrets;
mod sip;
mod store;
