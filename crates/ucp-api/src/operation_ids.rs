//! (method, route pattern) → OpenAPI operation id: the name an access-log entry gives what was
//! done, taken from the document so the two never disagree.

use std::collections::HashMap;
use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::ApiDoc;

fn table() -> &'static HashMap<(String, String), String> {
    static IDS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let doc = ApiDoc::openapi();
        let mut ids = HashMap::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
            ] {
                if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                    ids.insert((method.to_owned(), path.clone()), id);
                }
            }
        }
        ids
    })
}

/// The operation id of a matched route, if the document has one.
#[must_use]
pub fn operation_id(method: &str, pattern: &str) -> Option<&'static str> {
    table()
        .get(&(method.to_owned(), pattern.to_owned()))
        .map(String::as_str)
}
