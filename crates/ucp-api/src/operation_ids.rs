//! (method, route pattern) → OpenAPI operation id: the name an access-log entry gives what was
//! done, taken from the document so the two never disagree. The application builds the table
//! from its document and hands it to the audit middleware, which knows no route.

use std::collections::HashMap;

/// The operation ids of a document, by method and path template.
#[derive(Debug, Clone, Default)]
pub struct OperationIds(HashMap<(String, String), String>);

impl OperationIds {
    #[must_use]
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Self {
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
        Self(ids)
    }

    /// The methods the document declares for a path (empty: no such resource).
    #[must_use]
    pub fn methods_for(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .0
            .keys()
            .filter(|(_, pattern)| {
                actix_web::dev::ResourceDef::new(pattern.as_str()).is_match(path)
            })
            .map(|(method, _)| method.clone())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }

    /// The operation id of a matched route, if the document has one.
    #[must_use]
    pub fn get(&self, method: &str, pattern: &str) -> Option<&str> {
        self.0
            .get(&(method.to_owned(), pattern.to_owned()))
            .map(String::as_str)
    }
}
