//! FHIR forbids empty values: no nulls, no empty strings, arrays or objects. Mappings build
//! JSON freely and this takes out what is empty, so a missing optional field can never become
//! an invalid resource.

use serde_json::Value;

/// The value without its empty parts; `Null` when nothing is left.
#[must_use]
pub fn clean(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let kept: serde_json::Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| (k, clean(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .map(clean)
                .filter(|v| !is_empty(v))
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Array(kept)
            }
        }
        Value::String(s) if s.trim().is_empty() => Value::Null,
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::clean;
    use serde_json::json;

    #[test]
    fn empty_parts_go_and_the_rest_stays() {
        let v =
            json!({"a": null, "b": [], "c": {"d": ""}, "e": [null, {"f": 1}], "g": false, "h": 0});
        assert_eq!(clean(v), json!({"e": [{"f": 1}], "g": false, "h": 0}));
    }
}
