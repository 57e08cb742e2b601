//! Search results and a person's whole record, as searchset Bundles.

use serde_json::{json, Value};

use crate::{FhirSettings, Resource};

/// Whether an entry matched the search or came with the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    Match,
    Include,
}

/// One entry of a bundle.
#[derive(Debug, Clone)]
pub struct BundleEntry {
    pub resource: Resource,
    pub mode: SearchMode,
}

/// A searchset bundle: `total` counts the matches; `self_link` is the search as asked.
#[must_use]
pub fn searchset(settings: &FhirSettings, self_link: &str, entries: &[BundleEntry]) -> Value {
    let base = settings.base();
    let total = entries
        .iter()
        .filter(|e| e.mode == SearchMode::Match)
        .count();
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": format!("{}{self_link}", settings.public_url.trim_end_matches('/'))}],
        "entry": entries.iter().map(|e| json!({
            "fullUrl": format!("{base}/{}", e.resource.reference()),
            "resource": e.resource.json,
            "search": {"mode": match e.mode { SearchMode::Match => "match", SearchMode::Include => "include" }},
        })).collect::<Vec<_>>(),
    })
}
