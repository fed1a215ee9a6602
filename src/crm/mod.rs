//! Everything that ties a call to Salesforce. For now: how a phone number is understood
//! (the key every caller match is made on).

pub mod phone;
