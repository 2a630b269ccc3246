//! Collectors: read evidence from APIs into the store.

pub mod auth;
pub mod cache;
pub mod github;
pub mod http;
pub mod manifest;
pub mod origin;
pub mod replay;
pub mod retry;
pub mod watermarks;
