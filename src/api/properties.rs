//! `/api/v1/properties/…`: which patch a property belongs to, and who is responsible.

use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};

use super::{
    ApiTags,
    dto::{
        AssignPropertyRequest, ContactDetails, PatchResponse, PropertyAssignmentResponse,
        PropertyResponsibilityResponse, ResponsibilityEntry, path_guid,
    },
    problem::ApiError,
};
use crate::{
    domain::{Actor, PropertyRef, ValidationErrors, format_timestamp},
    store::patches::PatchStore,
};

/// A property's assignment.
#[derive(ApiResponse)]
pub enum Assigned {
    /// The property now belongs to the patch.
    #[oai(status = 200)]
    Ok(Json<PropertyAssignmentResponse>),
}

/// Who is responsible for a property.
#[derive(ApiResponse)]
pub enum Responsible {
    /// The property's patch, its areas up to the root, and every responsible entity.
    #[oai(status = 200)]
    Ok(Json<PropertyResponsibilityResponse>),
}

fn property_ref(value: &str) -> Result<PropertyRef, ApiError> {
    let mut errors = ValidationErrors::new();
    let parsed = errors.check("propertyRef", PropertyRef::parse(value));
    errors.finish(parsed).map_err(ApiError::validation)
}

/// Properties (homes) and their patches.
pub struct PropertyApi {
    /// The store every operation runs against.
    pub store: PatchStore,
}

#[OpenApi(tag = "ApiTags::Properties")]
impl PropertyApi {
    /// Assign a property to a patch
    ///
    /// A property belongs to one patch; assigning it again moves it. Both patches'
    /// histories record the move.
    #[oai(
        path = "/api/v1/properties/:propertyRef/patch",
        method = "put",
        operation_id = "assignPropertyPatch"
    )]
    async fn assign(
        &self,
        actor: Data<&Actor>,
        /// The property reference: a UPRN or an asset id.
        #[oai(name = "propertyRef")]
        property: Path<String>,
        body: Json<AssignPropertyRequest>,
    ) -> Result<Assigned, ApiError> {
        let property = property_ref(&property)?;
        let patch_id = match body.patch_id.as_deref() {
            Some(p) => path_guid("patchId", p).map_err(ApiError::validation)?,
            None => return Err(ApiError::invalid_field("patchId", "is required")),
        };
        let a = self
            .store
            .assign_property(&property, patch_id, &actor)
            .await?;
        Ok(Assigned::Ok(Json(PropertyAssignmentResponse {
            property_ref: a.property_ref,
            patch_id: a.patch_id,
            assigned_at: format_timestamp(a.assigned_at),
        })))
    }

    /// Who is responsible for a property
    ///
    /// The property's patch, then each area above it up to the root, and every
    /// responsible entity on the way, nearest first (`level` 0 is the patch itself).
    #[oai(
        path = "/api/v1/properties/:propertyRef/responsibility",
        method = "get",
        operation_id = "getPropertyResponsibility"
    )]
    async fn responsibility(
        &self,
        /// The property reference: a UPRN or an asset id.
        #[oai(name = "propertyRef")]
        property: Path<String>,
    ) -> Result<Responsible, ApiError> {
        let property = property_ref(&property)?;
        let r = self.store.responsibility(&property).await?;
        let mut entries = Vec::new();
        for (level, patch) in r.chain.iter().enumerate() {
            for e in &patch.content.responsible_entities {
                entries.push(ResponsibilityEntry {
                    id: e.id,
                    name: e.name.to_string(),
                    responsible_type: e.responsible_type.into(),
                    contact_details: ContactDetails {
                        email_address: e.email_address.as_ref().map(|m| m.to_string()),
                    },
                    patch_id: patch.id,
                    patch_name: patch.content.name.to_string(),
                    patch_type: patch.content.patch_type.into(),
                    level: level as i32,
                });
            }
        }
        let mut chain = r.chain.iter().map(PatchResponse::from);
        let patch = chain
            .next()
            .ok_or_else(|| ApiError::not_found("This property is not assigned to any patch."))?;
        Ok(Responsible::Ok(Json(PropertyResponsibilityResponse {
            property_ref: r.property_ref,
            patch,
            areas: chain.collect(),
            responsible_entities: entries,
        })))
    }
}
