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

    /// The operation id of a matched route: the document's most specific path for the request.
    /// A route such as `PUT /v1/care-plans/{id}/sections/{section}` is documented once per
    /// section (`…/sections/what-matters`), so the route's template is filled in with the values
    /// it matched (`value_of`) and the documented path with the fewest placeholders wins.
    #[must_use]
    pub fn get<'a>(
        &self,
        method: &str,
        pattern: &str,
        value_of: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<&str> {
        let concrete = fill(pattern, value_of);
        self.0
            .iter()
            .filter(|((m, path), _)| {
                m == method
                    && (path == pattern
                        || concrete.as_deref().is_some_and(|c| {
                            actix_web::dev::ResourceDef::new(path.as_str()).is_match(c)
                        }))
            })
            .min_by_key(|((_, path), _)| path.matches('{').count())
            .map(|(_, id)| id.as_str())
    }
}

/// A route template with its placeholders replaced by the values they matched, when every one
/// has a plain value (no `/`, no braces).
fn fill<'a>(pattern: &str, value_of: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        let value = value_of(&rest[open + 1..close])?;
        if value.contains(['/', '{', '}']) {
            return None;
        }
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> OperationIds {
        let mut map = HashMap::new();
        for (method, path, id) in [
            (
                "PUT",
                "/v1/care-plans/{id}/sections/{section}",
                "putSection",
            ),
            (
                "PUT",
                "/v1/care-plans/{id}/sections/what-matters",
                "putSectionWhatMatters",
            ),
            (
                "GET",
                "/v1/care-plans/{id}/sections/{section}",
                "getSection",
            ),
        ] {
            map.insert((method.to_owned(), path.to_owned()), id.to_owned());
        }
        OperationIds(map)
    }

    #[test]
    fn the_most_specific_documented_path_names_the_operation() {
        let ids = ids();
        let pattern = "/v1/care-plans/{id}/sections/{section}";
        let values = |name: &str| match name {
            "id" => Some("p1"),
            "section" => Some("what-matters"),
            _ => None,
        };
        assert_eq!(
            ids.get("PUT", pattern, values),
            Some("putSectionWhatMatters")
        );
        assert_eq!(ids.get("GET", pattern, values), Some("getSection"));
        let other = |name: &str| match name {
            "id" => Some("p1"),
            "section" => Some("contacts"),
            _ => None,
        };
        assert_eq!(ids.get("PUT", pattern, other), Some("putSection"));
        assert_eq!(ids.get("POST", pattern, other), None);
    }
}
