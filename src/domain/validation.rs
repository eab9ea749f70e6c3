//! Field-level validation messages, collected so a client sees every problem at once.

use std::collections::BTreeMap;

/// Messages by field path (`name`, `responsibleEntities[1].id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Records the error of `result` against `field` and returns its value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.add(field, m)).ok()
    }

    /// Requires a value: records "is required" when absent.
    pub fn require<'a>(&mut self, field: &str, value: Option<&'a str>) -> Option<&'a str> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages by field.
    pub fn into_map(self) -> BTreeMap<String, Vec<String>> {
        self.0
    }

    /// `Ok(value)` when there were no errors (the value must then be present).
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ValidationErrors> {
        match value {
            Some(v) if self.is_empty() => Ok(v),
            _ => Err(self),
        }
    }
}
