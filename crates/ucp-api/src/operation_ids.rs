//! (method, route pattern) → OpenAPI operation id: the name an access-log entry gives what was
//! done, taken from the document so the two never disagree. The application builds the table
//! from its document and hands it to the audit middleware, which knows no route.

use std::collections::HashMap;

/// The operation ids of a document, by method and path template, with each template split into
/// its segments once. The document's templates are plain (`/v1/care-plans/{id}`: a placeholder
/// is a whole segment), so a path matches one segment by segment, with no regular expression
/// (matching them with actix's route matchers cost a few per cent of a write's CPU).
#[derive(Debug, Clone, Default)]
pub struct OperationIds {
    ids: HashMap<(String, String), String>,
    matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
struct Matcher {
    method: String,
    template: Template,
    placeholders: usize,
    id: String,
}

/// A path template as segments: `Some(literal)`, or `None` for a placeholder.
#[derive(Debug, Clone)]
struct Template(Vec<Option<String>>);

impl Template {
    fn of(path: &str) -> Self {
        Self(
            path.split('/')
                .map(|seg| (!(seg.starts_with('{') && seg.ends_with('}'))).then(|| seg.to_owned()))
                .collect(),
        )
    }

    /// Whether a concrete path fills this template: the same literals, a non-empty value for
    /// each placeholder.
    fn is_match(&self, path: &str) -> bool {
        let mut segments = path.split('/');
        for want in &self.0 {
            match (want, segments.next()) {
                (Some(literal), Some(seg)) if literal == seg => {}
                (None, Some(seg)) if !seg.is_empty() => {}
                _ => return false,
            }
        }
        segments.next().is_none()
    }

    /// Whether this template is one of the paths a route template covers: the route's literals
    /// where it has them, anything where it has a placeholder.
    fn is_covered_by(&self, route: &Self) -> bool {
        self.0.len() == route.0.len()
            && self
                .0
                .iter()
                .zip(&route.0)
                .all(|(mine, theirs)| match theirs {
                    None => true,
                    Some(literal) => mine.as_ref() == Some(literal),
                })
    }
}

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
        let matchers = ids
            .iter()
            .map(|((method, path), id)| Matcher {
                method: method.clone(),
                template: Template::of(path),
                placeholders: path.matches('{').count(),
                id: id.clone(),
            })
            .collect();
        Self { ids, matchers }
    }

    /// The methods the document declares for a path (empty: no such resource).
    #[must_use]
    pub fn methods_for(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .matchers
            .iter()
            .filter(|m| m.template.is_match(path))
            .map(|m| m.method.clone())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }

    /// The operation id of a matched route: its own template's when the document has it (one
    /// hash lookup, the common case); otherwise that of the documented path the request's values
    /// fill it into. A route such as `PUT /v1/care-plans/{id}/sections/{section}` is documented
    /// once per section (`…/sections/what-matters`), so the template is filled in with the values
    /// it matched (`value_of`) and the documented path with the fewest placeholders wins.
    #[must_use]
    pub fn get<'a>(
        &self,
        method: &str,
        pattern: &str,
        value_of: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<&str> {
        if let Some(id) = self.ids.get(&(method.to_owned(), pattern.to_owned())) {
            return Some(id);
        }
        self.of_path(method, &fill(pattern, value_of)?)
    }

    /// The operation id of a request's concrete path, before it is routed: the documented path
    /// it matches with the fewest placeholders.
    #[must_use]
    pub fn of_path(&self, method: &str, path: &str) -> Option<&str> {
        self.matchers
            .iter()
            .filter(|m| m.method == method && m.template.is_match(path))
            .min_by_key(|m| m.placeholders)
            .map(|m| m.id.as_str())
    }

    /// For a route whose concrete path the document does not name (a section no operation is
    /// documented for, such as the person's Consent to Share), the operation id of a documented
    /// path of the same route: its siblings share a use case.
    #[must_use]
    pub fn sibling(&self, method: &str, pattern: &str) -> Option<&str> {
        let route = Template::of(pattern);
        let mut found: Vec<&Matcher> = self
            .matchers
            .iter()
            .filter(|m| m.method == method && m.template.is_covered_by(&route))
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.first().map(|m| m.id.as_str())
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
        let mut doc = utoipa::openapi::OpenApi::default();
        for ((method, path), id) in map {
            let op = utoipa::openapi::path::OperationBuilder::new()
                .operation_id(Some(id))
                .build();
            let item = doc.paths.paths.entry(path).or_default();
            match method.as_str() {
                "PUT" => item.put = Some(op),
                _ => item.get = Some(op),
            }
        }
        OperationIds::of(&doc)
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
        assert_eq!(ids.get("PUT", pattern, other), None);
        assert_eq!(ids.get("POST", pattern, other), None);
    }

    /// The matcher reads a placeholder as a whole segment: a documented path with one inside a
    /// segment (`/plans/{id}.pdf`) would match nothing, and its requests would have no
    /// operation id.
    #[test]
    fn every_documented_placeholder_is_a_whole_segment() {
        use utoipa::OpenApi;
        let doc = crate::openapi::ApiDoc::openapi();
        for path in doc.paths.paths.keys() {
            for segment in path.split('/') {
                let braces = segment.matches(['{', '}']).count();
                let whole = segment.starts_with('{') && segment.ends_with('}') && braces == 2;
                assert!(braces == 0 || whole, "{path}: {segment}");
            }
        }
    }

    #[test]
    fn a_concrete_path_matches_its_template_segment_by_segment() {
        let ids = ids();
        assert_eq!(
            ids.of_path("PUT", "/v1/care-plans/p1/sections/what-matters"),
            Some("putSectionWhatMatters")
        );
        assert_eq!(
            ids.of_path("GET", "/v1/care-plans/p1/sections/contacts"),
            Some("getSection")
        );
        for path in [
            "/v1/care-plans//sections/contacts",
            "/v1/care-plans/p1/sections/contacts/more",
            "/v1/care-plans/p1/sections",
            "/v1/care-plan/p1/sections/contacts",
        ] {
            assert_eq!(ids.of_path("GET", path), None, "{path}");
        }
        assert_eq!(
            ids.methods_for("/v1/care-plans/p1/sections/what-matters"),
            ["GET", "PUT"]
        );
        assert_eq!(
            ids.sibling("PUT", "/v1/care-plans/{id}/sections/{section}"),
            Some("putSectionWhatMatters")
        );
        assert_eq!(ids.sibling("PUT", "/v1/care-plans/{id}"), None);
    }
}
