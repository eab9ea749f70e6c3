//! Row values as the reporting API writes them, by EDM type: GUIDs lower-case,
//! timestamps UTC `YYYY-MM-DDThh:mm:ssZ`, nulls as JSON `null` or an empty CSV field.

use super::filter::Literal;
use crate::store::{Value, parse_timestamp, views::EdmType};

fn timestamp_text(v: &Value) -> Option<String> {
    match v {
        Value::Timestamp(t) => Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        Value::Text(t) => parse_timestamp(t).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        _ => None,
    }
}

/// The text of a value for CSV; `None` for null.
pub fn text(edm: EdmType, v: &Value) -> Option<String> {
    match (edm, v) {
        (_, Value::Null) => None,
        (EdmType::DateTimeOffset, v) => timestamp_text(v),
        (EdmType::Boolean, Value::Int(i)) => Some((*i != 0).to_string()),
        (EdmType::Guid, Value::Text(t)) => Some(t.to_lowercase()),
        (_, Value::Uuid(u)) => Some(u.to_string()),
        (_, Value::Text(t)) => Some(t.clone()),
        (_, Value::Int(i)) => Some(i.to_string()),
        (_, Value::Timestamp(_)) => timestamp_text(v),
    }
}

/// The JSON value of a column.
pub fn json(edm: EdmType, v: &Value) -> serde_json::Value {
    match (edm, v) {
        (_, Value::Null) => serde_json::Value::Null,
        (EdmType::Int32 | EdmType::Int64, Value::Int(i)) => (*i).into(),
        (EdmType::Boolean, Value::Int(i)) => (*i != 0).into(),
        _ => text(edm, v).map_or(serde_json::Value::Null, serde_json::Value::String),
    }
}

/// A row value as a filter literal (for resuming after it with `$skiptoken`).
pub fn literal(edm: EdmType, v: &Value) -> Literal {
    match (edm, v) {
        (_, Value::Null) => Literal::Null,
        (EdmType::Int32 | EdmType::Int64, Value::Int(i)) => Literal::Int(*i),
        (EdmType::Boolean, Value::Int(i)) => Literal::Bool(*i != 0),
        (EdmType::Guid, Value::Uuid(u)) => Literal::Guid(*u),
        (EdmType::Guid, Value::Text(t)) => {
            uuid::Uuid::parse_str(t).map_or(Literal::Null, Literal::Guid)
        }
        (EdmType::DateTimeOffset, Value::Timestamp(t)) => Literal::DateTime(*t),
        (EdmType::DateTimeOffset, Value::Text(t)) => {
            parse_timestamp(t).map_or(Literal::Null, Literal::DateTime)
        }
        (_, other) => Literal::String(text(edm, other).unwrap_or_default()),
    }
}
