//! fika: a federated social network node for the inside of organisations.

pub mod backup;
pub mod cli;
pub mod config;
pub mod convert;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod logging;
pub mod names;
pub mod net;
pub mod server;
pub mod store;
pub mod webpush;
