//! Integration tests of the test org over real HTTP, as the product will talk to it.

mod collections;
mod composite;
mod emails;
mod faults;
mod layouts;
mod limits;
mod oauth;
mod sobjects;
mod soql;
mod sosl;
mod support;
