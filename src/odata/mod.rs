//! The OData query language of the reporting API, independent of HTTP: query options
//! are parsed into a typed plan, checked against the view catalog, and rendered to
//! parameterised SQL for each dialect. Input never becomes SQL text: values become
//! parameters and identifiers come only from the catalog.

pub mod csdl;
pub mod csv;
pub mod filter;
pub mod format;
pub mod query;
pub mod render;

/// A reporting request that cannot be served as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    /// HTTP status: 400 bad option, 404 no such set or row, 501 unsupported feature.
    pub status: u16,
    /// A short machine-readable code.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
    /// The query option or part at fault, e.g. `$filter`.
    pub target: Option<String>,
}

impl ODataError {
    /// 400: a query option is malformed or invalid.
    pub fn bad_request(target: &str, message: impl Into<String>) -> Self {
        ODataError {
            status: 400,
            code: "BadRequest",
            message: message.into(),
            target: Some(target.to_string()),
        }
    }

    /// 501: a valid OData feature this service does not implement.
    pub fn not_implemented(target: &str, message: impl Into<String>) -> Self {
        ODataError {
            status: 501,
            code: "NotImplemented",
            message: message.into(),
            target: Some(target.to_string()),
        }
    }

    /// 404: no such entity set or row.
    pub fn not_found(message: impl Into<String>) -> Self {
        ODataError {
            status: 404,
            code: "NotFound",
            message: message.into(),
            target: None,
        }
    }
}
