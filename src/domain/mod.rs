//! Plain types and rules of patches and areas. No I/O: values here are parsed once at
//! the edge and are valid from then on (`PatchName::parse`, `DomainCode::parse`, …).

mod validation;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use validation::ValidationErrors;

/// Whether a row is a patch or an area (an area groups patches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchType {
    /// A unit of housing management.
    Patch,
    /// A group of patches (or of other areas).
    Area,
}

impl PatchType {
    /// The stored and serialised form.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchType::Patch => "patch",
            PatchType::Area => "area",
        }
    }

    /// Parses `patch` or `area` (any case).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "patch" => Ok(PatchType::Patch),
            "area" => Ok(PatchType::Area),
            _ => Err(format!("must be `patch` or `area`, not `{}`", truncate(s))),
        }
    }
}

/// The kind of responsible entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResponsibleType {
    /// A housing officer (an individual).
    HousingOfficer,
    /// A housing area manager (an individual).
    HousingAreaManager,
    /// A team; Manage Arrears assigns work to groups.
    Group,
}

impl ResponsibleType {
    /// The stored and serialised form.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponsibleType::HousingOfficer => "HousingOfficer",
            ResponsibleType::HousingAreaManager => "HousingAreaManager",
            ResponsibleType::Group => "Group",
        }
    }

    /// Parses `HousingOfficer`, `HousingAreaManager` or `Group` (any case).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "housingofficer" => Ok(ResponsibleType::HousingOfficer),
            "housingareamanager" => Ok(ResponsibleType::HousingAreaManager),
            "group" => Ok(ResponsibleType::Group),
            _ => Err(format!(
                "must be `HousingOfficer`, `HousingAreaManager` or `Group`, not `{}`",
                truncate(s)
            )),
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A patch or area name: 1–100 characters, trimmed, no control characters.
    PatchName
);
text_newtype!(
    /// A service domain code (`MMH`, `MA`, …): 1–20 letters, digits, `-` or `_`.
    DomainCode
);
text_newtype!(
    /// A responsible entity's display name: 1–200 characters, no control characters.
    EntityName
);
text_newtype!(
    /// An e-mail address: one `@`, a dot in the domain, at most 254 characters.
    EmailAddress
);
text_newtype!(
    /// A property reference (UPRN or asset id): 1–50 letters, digits, `-`, `_` or `.`.
    PropertyRef
);

fn bounded_text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    // Counted as SQL Server counts nvarchar: in UTF-16 code units.
    if t.encode_utf16().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if has_control(t) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

impl PatchName {
    /// Parses a patch name.
    pub fn parse(s: &str) -> Result<Self, String> {
        bounded_text(s, 100).map(PatchName)
    }
}

impl EntityName {
    /// Parses a responsible entity name.
    pub fn parse(s: &str) -> Result<Self, String> {
        bounded_text(s, 200).map(EntityName)
    }
}

impl DomainCode {
    /// Parses a domain code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() || t.len() > 20 {
            return Err("must be 1 to 20 characters".into());
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("may contain only letters, digits, `-` and `_`".into());
        }
        Ok(DomainCode(t.to_string()))
    }
}

impl EmailAddress {
    /// Parses an e-mail address (a pragmatic check, not full RFC 5322).
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let valid = t.len() <= 254
            && !has_control(t)
            && !t.contains(char::is_whitespace)
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(EmailAddress(t.to_string()))
        } else {
            Err("must be an e-mail address such as name@example.org".into())
        }
    }
}

impl PropertyRef {
    /// Parses a property reference.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 50 {
            return Err("must be 1 to 50 characters".into());
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("may contain only letters, digits, `-`, `_` and `.`".into());
        }
        Ok(PropertyRef(t.to_string()))
    }
}

/// Parses a GUID in any of the usual forms (hyphenated, braced, simple).
pub fn parse_guid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s.trim()).map_err(|_| format!("`{}` is not a GUID", truncate(s)))
}

/// A person or group responsible for a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponsibleEntity {
    /// The person's or group's id (the same on every patch they are responsible for).
    pub id: Uuid,
    /// Display name.
    pub name: EntityName,
    /// Officer, area manager or group.
    pub responsible_type: ResponsibleType,
    /// Contact e-mail, if known (serialised as `contactDetails.emailAddress`, as the API shows it).
    #[serde(rename = "contactDetails", serialize_with = "contact_details")]
    pub email_address: Option<EmailAddress>,
}

fn contact_details<S: serde::Serializer>(
    email: &Option<EmailAddress>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut details = s.serialize_struct("ContactDetails", 1)?;
    details.serialize_field("emailAddress", email)?;
    details.end()
}

/// What a patch says about itself, without bookkeeping; the unit of change history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchContent {
    /// The enclosing area, or `None` for a root.
    pub parent_id: Option<Uuid>,
    /// Name, e.g. `CP7`.
    pub name: PatchName,
    /// Patch or area.
    pub patch_type: PatchType,
    /// The service domain.
    pub domain: DomainCode,
    /// Who is responsible, in the order given.
    pub responsible_entities: Vec<ResponsibleEntity>,
}

/// A stored patch or area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The patch's id.
    pub id: Uuid,
    /// Its content.
    pub content: PatchContent,
    /// Increases by one on every change; the ETag.
    pub version_number: i64,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// The fields `PUT /patch/{id}` replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchUpdate {
    /// New parent (`None` makes it a root).
    pub parent_id: Option<Uuid>,
    /// New name.
    pub name: PatchName,
    /// New type.
    pub patch_type: PatchType,
    /// New domain.
    pub domain: DomainCode,
}

/// Who makes a change, as recorded in history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A stable identifier (token subject, API key label, or `anonymous`).
    pub id: String,
}

/// The longest `changed_by` the history table holds (`nvarchar(200)`, UTF-16 units).
pub const MAX_ACTOR_LEN: usize = 200;

impl Actor {
    /// The actor used when authentication is off.
    pub fn anonymous() -> Self {
        Actor {
            id: "anonymous".into(),
        }
    }

    /// An actor from free text (claims of a token, a key label): control characters
    /// become spaces and the text is cut to fit the history column, never mid-character.
    pub fn new(text: &str) -> Self {
        let mut id = String::new();
        let mut units = 0;
        for c in text.trim().chars() {
            let c = if c.is_control() { ' ' } else { c };
            units += c.len_utf16();
            if units > MAX_ACTOR_LEN {
                break;
            }
            id.push(c);
        }
        if id.trim().is_empty() {
            return Actor::anonymous();
        }
        Actor { id }
    }
}

/// The version a write expects, from `If-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No `If-Match` or `*`: apply to whatever version is current.
    Any,
    /// Apply only if the current version is exactly this.
    Exactly(i64),
}

impl ExpectedVersion {
    /// Parses an `If-Match` value: `"N"`, `N`, `W/"N"` or `*`.
    pub fn parse_if_match(header: Option<&str>) -> Result<Self, String> {
        let Some(raw) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            return Ok(ExpectedVersion::Any);
        };
        if raw == "*" {
            return Ok(ExpectedVersion::Any);
        }
        let bare = raw.strip_prefix("W/").unwrap_or(raw);
        let bare = bare
            .strip_prefix('"')
            .and_then(|b| b.strip_suffix('"'))
            .unwrap_or(bare);
        // Versions are SQL `int`s: anything larger can never match, so it is malformed.
        bare.parse::<i64>()
            .ok()
            .filter(|v| (1..=i64::from(i32::MAX)).contains(v))
            .map(ExpectedVersion::Exactly)
            .ok_or_else(|| {
                format!(
                    "If-Match must be a version such as \"3\", not `{}`",
                    truncate(raw)
                )
            })
    }

    /// The version as a nullable SQL parameter.
    pub fn as_option(self) -> Option<i64> {
        match self {
            ExpectedVersion::Any => None,
            ExpectedVersion::Exactly(v) => Some(v),
        }
    }
}

/// The ETag value for a version: `"N"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Timestamps as the API shows them: UTC, seconds, `Z`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The most responsible entities one patch may hold.
pub const MAX_RESPONSIBLE_ENTITIES: usize = 50;

/// Checks a list of responsible entities as a whole: not too many, ids unique.
pub fn check_entity_list(
    entities: &[ResponsibleEntity],
    field: &str,
    errors: &mut ValidationErrors,
) {
    if entities.len() > MAX_RESPONSIBLE_ENTITIES {
        errors.add(
            field,
            format!("must hold at most {MAX_RESPONSIBLE_ENTITIES} responsible entities"),
        );
    }
    for (i, e) in entities.iter().enumerate() {
        if entities[..i].iter().any(|other| other.id == e.id) {
            errors.add(
                format!("{field}[{i}].id"),
                "appears more than once in the list",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_text_fits_the_history_column_and_has_no_control_characters() {
        let long = "é".repeat(300);
        assert_eq!(Actor::new(&long).id.chars().count(), MAX_ACTOR_LEN);
        // Characters outside the BMP count twice in nvarchar and are never split.
        let emoji = "😀".repeat(150);
        let cut = Actor::new(&emoji).id;
        assert_eq!(cut.chars().count(), MAX_ACTOR_LEN / 2);
        assert_eq!(Actor::new("a\nb").id, "a b");
        assert_eq!(Actor::new("  ").id, "anonymous");
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(
            ExpectedVersion::parse_if_match(Some("\"3\"")),
            Ok(ExpectedVersion::Exactly(3))
        );
        assert_eq!(
            ExpectedVersion::parse_if_match(Some("3")),
            Ok(ExpectedVersion::Exactly(3))
        );
        assert_eq!(
            ExpectedVersion::parse_if_match(Some("W/\"3\"")),
            Ok(ExpectedVersion::Exactly(3))
        );
        assert_eq!(
            ExpectedVersion::parse_if_match(Some("*")),
            Ok(ExpectedVersion::Any)
        );
        assert_eq!(
            ExpectedVersion::parse_if_match(None),
            Ok(ExpectedVersion::Any)
        );
        assert!(ExpectedVersion::parse_if_match(Some("abc")).is_err());
        assert!(ExpectedVersion::parse_if_match(Some("\"0\"")).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PatchName::parse("  CP7 ").unwrap().as_str(), "CP7");
        assert!(PatchName::parse("   ").is_err());
        assert!(PatchName::parse(&"x".repeat(101)).is_err());
        assert!(PatchName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn domain_codes_are_restricted() {
        assert!(DomainCode::parse("MMH").is_ok());
        assert!(DomainCode::parse("MM H").is_err());
        assert!(DomainCode::parse("'; DROP").is_err());
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(EmailAddress::parse("jane.doe@example.org").is_ok());
        assert!(EmailAddress::parse("jane").is_err());
        assert!(EmailAddress::parse("a@b").is_err());
    }

    #[test]
    fn enums_parse_case_insensitively() {
        assert_eq!(PatchType::parse("Area"), Ok(PatchType::Area));
        assert_eq!(
            ResponsibleType::parse("housingofficer"),
            Ok(ResponsibleType::HousingOfficer)
        );
        assert!(ResponsibleType::parse("Boss").is_err());
    }
}
