//! `/api/v1/patch…`: patches and areas, their responsible entities and history.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    dto::{
        CreatePatchRequest, PatchChangeResponse, PatchHistoryPage, PatchResponse,
        ResponsibleEntityChangeRequest, ResponsibleEntityRequest, UpdatePatchRequest,
        parse_entity_list, path_guid,
    },
    problem::ApiError,
};
use crate::{
    domain::{Actor, ExpectedVersion, Patch, ValidationErrors, etag},
    store::patches::PatchStore,
};

/// One patch, with its version as the ETag.
#[derive(ApiResponse)]
pub enum PatchWithEtag {
    /// The patch or area.
    #[oai(status = 200)]
    Ok(
        Json<PatchResponse>,
        /// The version, `"N"`; send it back in `If-Match` to write.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A created patch.
#[derive(ApiResponse)]
pub enum CreatedPatch {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<PatchResponse>,
        /// Where the new patch lives.
        #[oai(header = "Location")]
        String,
        /// Its version, `"1"`.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A list of patches.
#[derive(ApiResponse)]
pub enum PatchList {
    /// The patches and areas, ordered by name (empty when none).
    #[oai(status = 200)]
    Ok(Json<Vec<PatchResponse>>),
}

/// Nothing to return.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// A page of history.
#[derive(ApiResponse)]
pub enum HistoryPage {
    /// Changes, newest first.
    #[oai(status = 200)]
    Ok(Json<PatchHistoryPage>),
}

fn with_etag(patch: &Patch) -> PatchWithEtag {
    PatchWithEtag::Ok(Json(patch.into()), etag(patch.version_number))
}

fn if_match(header: &Option<String>) -> Result<ExpectedVersion, ApiError> {
    ExpectedVersion::parse_if_match(header.as_deref())
        .map_err(|m| ApiError::invalid_field("If-Match", m))
}

fn guid(field: &str, value: &str) -> Result<uuid::Uuid, ApiError> {
    path_guid(field, value).map_err(ApiError::validation)
}

const DEFAULT_HISTORY_PAGE: i64 = 20;
const MAX_HISTORY_PAGE: i64 = 100;

/// Patches and areas.
pub struct PatchApi {
    /// The store every operation runs against.
    pub store: PatchStore,
}

impl PatchApi {
    async fn upsert_entity(
        &self,
        id: &str,
        re_id: &str,
        if_match_header: &Option<String>,
        body: &ResponsibleEntityChangeRequest,
        actor: &Actor,
    ) -> Result<PatchWithEtag, ApiError> {
        let id = guid("id", id)?;
        let re_id = guid("reId", re_id)?;
        let expected = if_match(if_match_header)?;
        let change = body.parse().map_err(ApiError::validation)?;
        let patch = self
            .store
            .upsert_responsible_entity(id, re_id, &change, expected, actor)
            .await?;
        Ok(with_etag(&patch))
    }

    async fn remove_entity(
        &self,
        id: &str,
        re_id: &str,
        if_match_header: &Option<String>,
        actor: &Actor,
    ) -> Result<Done, ApiError> {
        let id = guid("id", id)?;
        let re_id = guid("reId", re_id)?;
        let expected = if_match(if_match_header)?;
        self.store
            .remove_responsible_entity(id, re_id, expected, actor)
            .await?;
        Ok(Done::NoContent)
    }

    async fn replace_entities(
        &self,
        id: &str,
        if_match_header: &Option<String>,
        body: &[ResponsibleEntityRequest],
        actor: &Actor,
    ) -> Result<PatchWithEtag, ApiError> {
        let id = guid("id", id)?;
        let expected = if_match(if_match_header)?;
        let mut errors = ValidationErrors::new();
        let entities = parse_entity_list("body", body, &mut errors);
        let entities = errors.finish(entities).map_err(ApiError::validation)?;
        let patch = self
            .store
            .replace_responsible_entities(id, &entities, expected, actor)
            .await?;
        Ok(with_etag(&patch))
    }
}

#[OpenApi(tag = "ApiTags::Patches")]
impl PatchApi {
    /// Get a patch or area
    ///
    /// One patch or area with its responsible entities. The `ETag` header carries its
    /// version for a later `If-Match`.
    #[oai(path = "/api/v1/patch/:id", method = "get", operation_id = "getPatch")]
    async fn get_patch(&self, id: Path<String>) -> Result<PatchWithEtag, ApiError> {
        let patch = self.store.get(guid("id", &id)?).await?;
        Ok(with_etag(&patch))
    }

    /// List children, or the patches of a responsible entity
    ///
    /// Give exactly one of `parentId` (the children of a patch or area) or
    /// `responsibleEntityId` (the patches that person or group is responsible for).
    /// An unknown id gives an empty list.
    #[oai(path = "/api/v1/patch", method = "get", operation_id = "listPatches")]
    async fn list_patches(
        &self,
        /// The parent patch or area (GUID).
        #[oai(name = "parentId")]
        parent_id: Query<Option<String>>,
        /// A responsible entity's id (GUID).
        #[oai(name = "responsibleEntityId")]
        responsible_entity_id: Query<Option<String>>,
    ) -> Result<PatchList, ApiError> {
        let patches = match (parent_id.0.as_deref(), responsible_entity_id.0.as_deref()) {
            (Some(parent), None) => self.store.children(guid("parentId", parent)?).await?,
            (None, Some(entity)) => {
                self.store
                    .by_responsible_entity(guid("responsibleEntityId", entity)?)
                    .await?
            }
            _ => {
                return Err(ApiError::invalid_field(
                    "parentId",
                    "give exactly one of `parentId` or `responsibleEntityId` (GET /patch/all lists every patch)",
                ));
            }
        };
        Ok(PatchList::Ok(Json(
            patches.iter().map(Into::into).collect(),
        )))
    }

    /// List every patch and area
    ///
    /// Unpaged; kept for existing clients. Reports should use the OData API instead.
    #[oai(
        path = "/api/v1/patch/all",
        method = "get",
        operation_id = "listAllPatches"
    )]
    async fn list_all(&self) -> Result<PatchList, ApiError> {
        let patches = self.store.all().await?;
        Ok(PatchList::Ok(Json(
            patches.iter().map(Into::into).collect(),
        )))
    }

    /// Create a patch or area
    ///
    /// The client may supply the `id`. A `parentId` must name an existing patch or
    /// area (422 otherwise); an existing `id` answers 409.
    #[oai(path = "/api/v1/patch", method = "post", operation_id = "createPatch")]
    async fn create_patch(
        &self,
        actor: Data<&Actor>,
        body: Json<CreatePatchRequest>,
    ) -> Result<CreatedPatch, ApiError> {
        let new = body.parse().map_err(ApiError::validation)?;
        let patch = self.store.create(&new, &actor).await?;
        Ok(CreatedPatch::Created(
            Json((&patch).into()),
            format!("/api/v1/patch/{}", patch.id),
            etag(patch.version_number),
        ))
    }

    /// Change a patch's name, type, domain and parent
    ///
    /// Replaces all four (an absent `parentId` makes it a root). `If-Match` guards
    /// against lost updates: a stale version answers 409 with the current version.
    #[oai(
        path = "/api/v1/patch/:id",
        method = "put",
        operation_id = "updatePatch"
    )]
    async fn update_patch(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The version you read (`"N"`, `N`, `W/"N"` or `*`).
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
        body: Json<UpdatePatchRequest>,
    ) -> Result<PatchWithEtag, ApiError> {
        let id = guid("id", &id)?;
        let expected = if_match(&if_match_header)?;
        let update = body.parse().map_err(ApiError::validation)?;
        let patch = self.store.update(id, expected, &update, &actor).await?;
        Ok(with_etag(&patch))
    }

    /// Delete a patch or area
    ///
    /// Only a patch with no children and no assigned properties can be deleted (409
    /// otherwise). Its change history is kept.
    #[oai(
        path = "/api/v1/patch/:id",
        method = "delete",
        operation_id = "deletePatch"
    )]
    async fn delete_patch(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The version you read (`"N"`, `N`, `W/"N"` or `*`).
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
    ) -> Result<Done, ApiError> {
        let id = guid("id", &id)?;
        let expected = if_match(&if_match_header)?;
        self.store.delete(id, expected, &actor).await?;
        Ok(Done::NoContent)
    }

    /// Add or update one responsible entity
    ///
    /// Adds the entity `reId` to the patch, or changes it if it is already there.
    #[oai(
        path = "/api/v1/patch/:id/responsible-entity/:reId",
        method = "patch",
        operation_id = "upsertResponsibleEntity"
    )]
    async fn upsert_responsible_entity(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The responsible entity's id (GUID).
        #[oai(name = "reId")]
        re_id: Path<String>,
        /// The version you read (`"N"`, `N`, `W/"N"` or `*`).
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
        body: Json<ResponsibleEntityChangeRequest>,
    ) -> Result<PatchWithEtag, ApiError> {
        self.upsert_entity(&id, &re_id, &if_match_header, &body, &actor)
            .await
    }

    /// Add or update one responsible entity (older route)
    ///
    /// Same as `PATCH /api/v1/patch/{id}/responsible-entity/{reId}`.
    #[oai(
        path = "/api/v1/patch/:id/responsibleEntity/:reId",
        method = "patch",
        operation_id = "upsertResponsibleEntityCompat",
        deprecated
    )]
    async fn upsert_responsible_entity_compat(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The responsible entity's id (GUID).
        #[oai(name = "reId")]
        re_id: Path<String>,
        /// The version you read.
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
        body: Json<ResponsibleEntityChangeRequest>,
    ) -> Result<PatchWithEtag, ApiError> {
        self.upsert_entity(&id, &re_id, &if_match_header, &body, &actor)
            .await
    }

    /// Remove one responsible entity
    ///
    /// 404 when the patch does not exist or the entity is not on it.
    #[oai(
        path = "/api/v1/patch/:id/responsible-entity/:reId",
        method = "delete",
        operation_id = "removeResponsibleEntity"
    )]
    async fn remove_responsible_entity(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The responsible entity's id (GUID).
        #[oai(name = "reId")]
        re_id: Path<String>,
        /// The version you read (`"N"`, `N`, `W/"N"` or `*`).
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
    ) -> Result<Done, ApiError> {
        self.remove_entity(&id, &re_id, &if_match_header, &actor)
            .await
    }

    /// Remove one responsible entity (older route)
    ///
    /// Same as `DELETE /api/v1/patch/{id}/responsible-entity/{reId}`.
    #[oai(
        path = "/api/v1/patch/:id/responsibleEntity/:reId",
        method = "delete",
        operation_id = "removeResponsibleEntityCompat",
        deprecated
    )]
    async fn remove_responsible_entity_compat(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The responsible entity's id (GUID).
        #[oai(name = "reId")]
        re_id: Path<String>,
        /// The version you read.
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
    ) -> Result<Done, ApiError> {
        self.remove_entity(&id, &re_id, &if_match_header, &actor)
            .await
    }

    /// Replace the responsible entities (reassignment)
    ///
    /// The body is the complete new list, in order. Managers use this to reassign a
    /// patch, e.g. while an officer is away.
    #[oai(
        path = "/api/v1/patch/:id/responsible-entities",
        method = "put",
        operation_id = "replaceResponsibleEntities"
    )]
    async fn replace_responsible_entities(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The version you read (`"N"`, `N`, `W/"N"` or `*`).
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
        body: Json<Vec<ResponsibleEntityRequest>>,
    ) -> Result<PatchWithEtag, ApiError> {
        self.replace_entities(&id, &if_match_header, &body, &actor)
            .await
    }

    /// Replace the responsible entities (older route)
    ///
    /// Same as `PUT /api/v1/patch/{id}/responsible-entities`.
    #[oai(
        path = "/api/v1/patch/:id/responsibleEntities",
        method = "put",
        operation_id = "replaceResponsibleEntitiesCompat",
        deprecated
    )]
    async fn replace_responsible_entities_compat(
        &self,
        actor: Data<&Actor>,
        id: Path<String>,
        /// The version you read.
        #[oai(name = "If-Match")]
        if_match_header: Header<Option<String>>,
        body: Json<Vec<ResponsibleEntityRequest>>,
    ) -> Result<PatchWithEtag, ApiError> {
        self.replace_entities(&id, &if_match_header, &body, &actor)
            .await
    }

    /// Change history of a patch
    ///
    /// Newest first, `pageSize` entries a page (default 20, at most 100). Follow
    /// `nextPageToken` for older entries. History outlives a deleted patch.
    #[oai(
        path = "/api/v1/patch/:id/history",
        method = "get",
        operation_id = "getPatchHistory"
    )]
    async fn history(
        &self,
        id: Path<String>,
        /// Entries per page, 1–100 (default 20).
        #[oai(name = "pageSize")]
        page_size: Query<Option<i64>>,
        /// The `nextPageToken` of the previous page.
        #[oai(name = "pageToken")]
        page_token: Query<Option<String>>,
    ) -> Result<HistoryPage, ApiError> {
        let id = guid("id", &id)?;
        let take = page_size.0.unwrap_or(DEFAULT_HISTORY_PAGE);
        if !(1..=MAX_HISTORY_PAGE).contains(&take) {
            return Err(ApiError::invalid_field(
                "pageSize",
                format!("must be between 1 and {MAX_HISTORY_PAGE}"),
            ));
        }
        let before = match page_token.0.as_deref() {
            None => None,
            Some(t) => Some(t.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
                ApiError::invalid_field("pageToken", "is not a token this API issued")
            })?),
        };
        // One extra row tells whether another page exists.
        let mut changes = self.store.history(id, before, take + 1).await?;
        let more = changes.len() as i64 > take;
        changes.truncate(take as usize);
        let next_page_token = more
            .then(|| changes.last().map(|c| c.change_id.to_string()))
            .flatten();
        Ok(HistoryPage::Ok(Json(PatchHistoryPage {
            results: changes.iter().map(PatchChangeResponse::from).collect(),
            next_page_token,
        })))
    }
}
