//! Everything that ties a call to Salesforce: signing in, the REST client, query
//! escaping, and how a phone number is understood (the key every caller match is made
//! on).

pub mod client;
pub mod country;
pub mod error;
pub mod escape;
pub mod oauth;
pub mod phone;
pub mod matching;
pub mod session;

pub use client::{ApiUsage, Backoff, Connection, Record, Salesforce, API_VERSION};
pub use error::{ApiError, SalesforceError};
pub use oauth::{LoginHost, SignIn};
