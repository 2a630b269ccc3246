//! Collectors: read evidence from APIs into the store.

pub mod auth;
pub mod cache;
pub mod coverage;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod manifest;
pub mod origin;
pub mod replay;
pub mod retry;
pub mod scope;
pub mod watermarks;
