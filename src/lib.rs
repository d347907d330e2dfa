//! `redact`: Markdown Council papers in, one copy per audience out, with every passage
//! withheld under a FOIA exemption replaced by a marker naming its codes.
//!
//! Data flows one way: source (read) → parse → model → redact → render → audit → write.

pub mod assets;
pub mod attr;
pub mod audit;
pub mod check;
pub mod cli;
pub mod deny;
pub mod error;
pub mod front_matter;
pub mod html_policy;
pub mod index;
pub mod manifest;
pub mod model;
pub mod notice;
pub mod parse;
pub mod pdf;
pub mod pipeline;
pub mod proof;
pub mod records;
pub mod redact;
pub mod release;
pub mod render;
pub mod report;
pub mod reread;
pub mod rules;
pub mod schedule;
pub mod serve;
pub mod source;
pub mod span;
pub mod suggest;
#[cfg(test)]
mod test_rng;
pub mod withheld;
pub mod write;
mod yaml;
