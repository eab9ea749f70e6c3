//! Request and response bodies (camelCase JSON) and their conversion to domain types.
//!
//! Request fields are deliberately loose (`Option<String>`) so that every problem is
//! reported per field with a clear message, instead of a generic parse failure.

use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::domain::{
    self, DomainCode, EmailAddress, EntityName, Patch, PatchContent, PatchName, PatchType,
    PatchUpdate, ResponsibleEntity, ResponsibleType, ValidationErrors, check_entity_list,
    format_timestamp, parse_guid,
};
use crate::store::patches::{EntityChange, NewPatch, PatchChange};

/// Patch or area.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum PatchTypeDto {
    /// A unit of housing management.
    Patch,
    /// A group of patches.
    Area,
}

/// The kind of responsible entity.
#[derive(Debug, Clone, Copy, Enum)]
pub enum ResponsibleTypeDto {
    /// A housing officer.
    #[oai(rename = "HousingOfficer")]
    HousingOfficer,
    /// A housing area manager.
    #[oai(rename = "HousingAreaManager")]
    HousingAreaManager,
    /// A team (Manage Arrears assigns work to groups).
    #[oai(rename = "Group")]
    Group,
}

impl From<PatchType> for PatchTypeDto {
    fn from(t: PatchType) -> Self {
        match t {
            PatchType::Patch => PatchTypeDto::Patch,
            PatchType::Area => PatchTypeDto::Area,
        }
    }
}

impl From<ResponsibleType> for ResponsibleTypeDto {
    fn from(t: ResponsibleType) -> Self {
        match t {
            ResponsibleType::HousingOfficer => ResponsibleTypeDto::HousingOfficer,
            ResponsibleType::HousingAreaManager => ResponsibleTypeDto::HousingAreaManager,
            ResponsibleType::Group => ResponsibleTypeDto::Group,
        }
    }
}

/// How to reach a responsible entity.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ContactDetails {
    /// E-mail address, or null when unknown.
    pub email_address: Option<String>,
}

/// A person or group responsible for a patch.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ResponsibleEntityResponse {
    /// The person's or group's id; the same on every patch they are responsible for.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Officer, area manager or group.
    pub responsible_type: ResponsibleTypeDto,
    /// Contact details.
    pub contact_details: ContactDetails,
}

impl From<&ResponsibleEntity> for ResponsibleEntityResponse {
    fn from(e: &ResponsibleEntity) -> Self {
        ResponsibleEntityResponse {
            id: e.id,
            name: e.name.to_string(),
            responsible_type: e.responsible_type.into(),
            contact_details: ContactDetails {
                email_address: e.email_address.as_ref().map(|m| m.to_string()),
            },
        }
    }
}

/// A patch or area with its responsible entities.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PatchResponse {
    /// The patch's id.
    pub id: Uuid,
    /// The enclosing area's id; null for a root.
    pub parent_id: Option<Uuid>,
    /// Name, e.g. `CP7`.
    pub name: String,
    /// `patch` or `area`.
    pub patch_type: PatchTypeDto,
    /// Service domain code, e.g. `MMH` or `MA`.
    pub domain: String,
    /// Who is responsible, in the order they were given.
    pub responsible_entities: Vec<ResponsibleEntityResponse>,
    /// Increases by one on every change; send it back in `If-Match`.
    pub version_number: i64,
    /// Creation time, UTC (`YYYY-MM-DDThh:mm:ssZ`).
    pub created_at: String,
    /// Last change, UTC (`YYYY-MM-DDThh:mm:ssZ`).
    pub updated_at: String,
}

impl From<&Patch> for PatchResponse {
    fn from(p: &Patch) -> Self {
        PatchResponse {
            id: p.id,
            parent_id: p.content.parent_id,
            name: p.content.name.to_string(),
            patch_type: p.content.patch_type.into(),
            domain: p.content.domain.to_string(),
            responsible_entities: p
                .content
                .responsible_entities
                .iter()
                .map(Into::into)
                .collect(),
            version_number: p.version_number,
            created_at: format_timestamp(p.created_at),
            updated_at: format_timestamp(p.updated_at),
        }
    }
}

/// Contact details on input.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ContactDetailsRequest {
    /// E-mail address; null or absent for none.
    pub email_address: Option<String>,
}

/// A responsible entity on input.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ResponsibleEntityRequest {
    /// The person's or group's id (GUID). Required.
    pub id: Option<String>,
    /// Display name, 1–200 characters. Required.
    pub name: Option<String>,
    /// `HousingOfficer`, `HousingAreaManager` or `Group`. Required (or `type`).
    pub responsible_type: Option<String>,
    /// Older name of `responsibleType`, accepted for existing clients.
    #[oai(rename = "type")]
    pub type_alias: Option<String>,
    /// Contact details.
    pub contact_details: Option<ContactDetailsRequest>,
}

/// A new patch or area.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CreatePatchRequest {
    /// The id to use (GUID); generated when absent.
    pub id: Option<String>,
    /// The enclosing area's id; absent or null for a root.
    pub parent_id: Option<String>,
    /// Name, 1–100 characters. Required.
    pub name: Option<String>,
    /// `patch` or `area`. Required (or `type`).
    pub patch_type: Option<String>,
    /// Older name of `patchType`, accepted for existing clients.
    #[oai(rename = "type")]
    pub type_alias: Option<String>,
    /// Service domain code (`MMH`, `MA`, …): 1–20 letters, digits, `-`, `_`. Required.
    pub domain: Option<String>,
    /// Who is responsible; at most 50, ids unique.
    pub responsible_entities: Option<Vec<ResponsibleEntityRequest>>,
}

/// The fields of a patch that `PUT /patch/{id}` replaces.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct UpdatePatchRequest {
    /// The new parent; absent or null makes the patch a root.
    pub parent_id: Option<String>,
    /// Name, 1–100 characters. Required.
    pub name: Option<String>,
    /// `patch` or `area`. Required (or `type`).
    pub patch_type: Option<String>,
    /// Older name of `patchType`, accepted for existing clients.
    #[oai(rename = "type")]
    pub type_alias: Option<String>,
    /// Service domain code. Required.
    pub domain: Option<String>,
}

/// Adds or changes one responsible entity. To add, `name` and `responsibleType` are
/// required; to change, absent fields keep their current values.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ResponsibleEntityChangeRequest {
    /// Display name, 1–200 characters.
    pub name: Option<String>,
    /// `HousingOfficer`, `HousingAreaManager` or `Group`.
    pub responsible_type: Option<String>,
    /// Older name of `responsibleType`, accepted for existing clients.
    #[oai(rename = "type")]
    pub type_alias: Option<String>,
    /// Contact details; when given, they replace the current ones.
    pub contact_details: Option<ContactDetailsRequest>,
}

/// Assigns a property to a patch.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct AssignPropertyRequest {
    /// The patch's id (GUID). Required.
    pub patch_id: Option<String>,
}

/// A property's patch assignment.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PropertyAssignmentResponse {
    /// The property reference (UPRN or asset id).
    pub property_ref: String,
    /// The patch it is assigned to.
    pub patch_id: Uuid,
    /// When it was assigned, UTC.
    pub assigned_at: String,
}

/// One responsible entity found on the way from a property's patch to the root.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ResponsibilityEntry {
    /// The person's or group's id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Officer, area manager or group.
    pub responsible_type: ResponsibleTypeDto,
    /// Contact details.
    pub contact_details: ContactDetails,
    /// The patch or area this responsibility comes from.
    pub patch_id: Uuid,
    /// That patch's or area's name.
    pub patch_name: String,
    /// `patch` or `area`.
    pub patch_type: PatchTypeDto,
    /// 0 for the property's own patch, 1 for its area, and so on up to the root.
    pub level: i32,
}

/// Who is responsible for a property.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PropertyResponsibilityResponse {
    /// The property reference.
    pub property_ref: String,
    /// The patch the property is assigned to.
    pub patch: PatchResponse,
    /// The areas above that patch, nearest first, up to the root.
    pub areas: Vec<PatchResponse>,
    /// Every responsible entity on the way, nearest first.
    pub responsible_entities: Vec<ResponsibilityEntry>,
}

/// One change-history entry.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PatchChangeResponse {
    /// Increasing id of the change.
    pub change_id: i64,
    /// The patch changed.
    pub patch_id: Uuid,
    /// The patch's version after the change.
    pub version_number: i64,
    /// `Created`, `Updated`, `Deleted`, `ResponsibleEntityAdded`,
    /// `ResponsibleEntityUpdated`, `ResponsibleEntityRemoved`,
    /// `ResponsibleEntitiesReplaced`, `PropertyAssigned` or `PropertyUnassigned`.
    pub change_type: String,
    /// Who made the change.
    pub changed_by: String,
    /// When, UTC.
    pub changed_at: String,
    /// The content before the change (null on creation).
    pub before: Option<serde_json::Value>,
    /// The content after the change (null on deletion).
    pub after: Option<serde_json::Value>,
}

impl From<&PatchChange> for PatchChangeResponse {
    fn from(c: &PatchChange) -> Self {
        PatchChangeResponse {
            change_id: c.change_id,
            patch_id: c.patch_id,
            version_number: c.version_number,
            change_type: c.change_type.clone(),
            changed_by: c.changed_by.clone(),
            changed_at: format_timestamp(c.changed_at),
            before: c.before.clone(),
            after: c.after.clone(),
        }
    }
}

/// A page of change history.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PatchHistoryPage {
    /// Changes, newest first.
    pub results: Vec<PatchChangeResponse>,
    /// Pass as `pageToken` to get the next page; null on the last page.
    pub next_page_token: Option<String>,
}

/// Resolves a field that has a current name and an older alias.
fn aliased<'a>(
    errors: &mut ValidationErrors,
    field: &str,
    value: &'a Option<String>,
    alias: &'a Option<String>,
) -> Option<&'a str> {
    match (value.as_deref(), alias.as_deref()) {
        (Some(v), Some(a)) if !v.trim().eq_ignore_ascii_case(a.trim()) => {
            errors.add(field, "and its alias `type` disagree; send one of them");
            None
        }
        (Some(v), _) => Some(v),
        (None, a) => errors.require(field, a),
    }
}

fn optional_guid(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
) -> Option<Option<Uuid>> {
    match value.as_deref() {
        None => Some(None),
        Some(v) => errors.check(field, parse_guid(v)).map(Some),
    }
}

fn email(
    errors: &mut ValidationErrors,
    field: &str,
    c: &ContactDetailsRequest,
) -> Option<Option<EmailAddress>> {
    match c.email_address.as_deref() {
        None => Some(None),
        Some(e) if e.trim().is_empty() => Some(None),
        Some(e) => errors.check(field, EmailAddress::parse(e)).map(Some),
    }
}

fn entity(
    errors: &mut ValidationErrors,
    prefix: &str,
    r: &ResponsibleEntityRequest,
) -> Option<ResponsibleEntity> {
    let f = |name: &str| format!("{prefix}.{name}");
    let id = errors
        .require(&f("id"), r.id.as_deref())
        .and_then(|v| errors.check(&f("id"), parse_guid(v)));
    let name = errors
        .require(&f("name"), r.name.as_deref())
        .and_then(|v| errors.check(&f("name"), EntityName::parse(v)));
    let kind = aliased(
        errors,
        &f("responsibleType"),
        &r.responsible_type,
        &r.type_alias,
    )
    .and_then(|v| errors.check(&f("responsibleType"), ResponsibleType::parse(v)));
    let email = match &r.contact_details {
        None => Some(None),
        Some(c) => email(errors, &f("contactDetails.emailAddress"), c),
    };
    Some(ResponsibleEntity {
        id: id?,
        name: name?,
        responsible_type: kind?,
        email_address: email?,
    })
}

/// Parses a list of responsible entities; `field` prefixes the messages.
pub fn parse_entity_list(
    field: &str,
    list: &[ResponsibleEntityRequest],
    errors: &mut ValidationErrors,
) -> Option<Vec<ResponsibleEntity>> {
    let parsed: Vec<Option<ResponsibleEntity>> = list
        .iter()
        .enumerate()
        .map(|(i, r)| entity(errors, &format!("{field}[{i}]"), r))
        .collect();
    let parsed: Option<Vec<_>> = parsed.into_iter().collect();
    if let Some(list) = &parsed {
        check_entity_list(list, field, errors);
    }
    parsed
}

struct CoreFields {
    parent_id: Option<Uuid>,
    name: PatchName,
    patch_type: PatchType,
    domain: DomainCode,
}

fn core_fields(
    errors: &mut ValidationErrors,
    parent_id: &Option<String>,
    name: &Option<String>,
    patch_type: &Option<String>,
    type_alias: &Option<String>,
    domain: &Option<String>,
) -> Option<CoreFields> {
    let parent_id = optional_guid(errors, "parentId", parent_id);
    let name = errors
        .require("name", name.as_deref())
        .and_then(|v| errors.check("name", PatchName::parse(v)));
    let patch_type = aliased(errors, "patchType", patch_type, type_alias)
        .and_then(|v| errors.check("patchType", PatchType::parse(v)));
    let domain = errors
        .require("domain", domain.as_deref())
        .and_then(|v| errors.check("domain", DomainCode::parse(v)));
    Some(CoreFields {
        parent_id: parent_id?,
        name: name?,
        patch_type: patch_type?,
        domain: domain?,
    })
}

impl CreatePatchRequest {
    /// Parses the request into a new patch, or every validation message.
    pub fn parse(&self) -> Result<NewPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let id = optional_guid(&mut errors, "id", &self.id);
        let core = core_fields(
            &mut errors,
            &self.parent_id,
            &self.name,
            &self.patch_type,
            &self.type_alias,
            &self.domain,
        );
        let entities = parse_entity_list(
            "responsibleEntities",
            self.responsible_entities.as_deref().unwrap_or_default(),
            &mut errors,
        );
        let value = match (id, core, entities) {
            (Some(id), Some(c), Some(entities)) => Some(NewPatch {
                id,
                content: PatchContent {
                    parent_id: c.parent_id,
                    name: c.name,
                    patch_type: c.patch_type,
                    domain: c.domain,
                    responsible_entities: entities,
                },
            }),
            _ => None,
        };
        errors.finish(value)
    }
}

impl UpdatePatchRequest {
    /// Parses the request into the replaced fields, or every validation message.
    pub fn parse(&self) -> Result<PatchUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let core = core_fields(
            &mut errors,
            &self.parent_id,
            &self.name,
            &self.patch_type,
            &self.type_alias,
            &self.domain,
        );
        errors.finish(core.map(|c| PatchUpdate {
            parent_id: c.parent_id,
            name: c.name,
            patch_type: c.patch_type,
            domain: c.domain,
        }))
    }
}

impl ResponsibleEntityChangeRequest {
    /// Parses the request into a change, or every validation message.
    pub fn parse(&self) -> Result<EntityChange, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = self
            .name
            .as_deref()
            .map(|v| errors.check("name", EntityName::parse(v)));
        let kind = match (self.responsible_type.is_some(), self.type_alias.is_some()) {
            (false, false) => None,
            _ => Some(
                aliased(
                    &mut errors,
                    "responsibleType",
                    &self.responsible_type,
                    &self.type_alias,
                )
                .and_then(|v| errors.check("responsibleType", ResponsibleType::parse(v))),
            ),
        };
        let email = self
            .contact_details
            .as_ref()
            .map(|c| email(&mut errors, "contactDetails.emailAddress", c));
        let change = EntityChange {
            name: name.flatten(),
            responsible_type: kind.flatten(),
            email_address: email.flatten(),
        };
        errors.finish(Some(change))
    }
}

/// Parses a path or query GUID, naming the parameter in the error.
pub fn path_guid(field: &str, value: &str) -> Result<Uuid, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let id = errors.check(field, domain::parse_guid(value));
    errors.finish(id)
}
