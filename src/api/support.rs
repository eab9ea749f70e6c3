//! Health probes and the SQL catalog for support analysts.

use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{ApiTags, problem::ApiError};
use crate::store::{
    catalog::{Catalog, SqlKind},
    patches::PatchStore,
};

/// A health answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct HealthStatus {
    /// `ok` when live, `ready` when the database answers.
    pub status: String,
}

/// Health probe answer.
#[derive(ApiResponse)]
pub enum Health {
    /// Healthy.
    #[oai(status = 200)]
    Ok(Json<HealthStatus>),
}

/// One parameter of a named query.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct QueryParam {
    /// Name without `@`.
    pub name: String,
    /// Declared SQL type.
    #[oai(rename = "type")]
    pub sql_type: String,
}

/// One named SQL file.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NamedSql {
    /// The name logs use (`query=…`).
    pub name: String,
    /// `query`, `migration` or `view`.
    pub kind: String,
    /// What it does.
    pub doc: String,
    /// Its parameters, in order.
    pub params: Vec<QueryParam>,
    /// The file in the repository, e.g. `sql/mssql/queries/patch_get_by_id.sql`.
    pub file: String,
    /// The whole file as shipped and run.
    pub sql: String,
}

/// The SQL catalog of the running dialect.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct QueryCatalog {
    /// `mssql` or `sqlite`.
    pub dialect: String,
    /// Every named query, migration and view.
    pub queries: Vec<NamedSql>,
}

/// The catalog answer.
#[derive(ApiResponse)]
pub enum CatalogResponse {
    /// The catalog.
    #[oai(status = 200)]
    Ok(Json<QueryCatalog>),
}

/// Builds the catalog body for `catalog` (also printed by `patches queries`).
pub fn catalog_body(catalog: &Catalog) -> QueryCatalog {
    QueryCatalog {
        dialect: catalog.dialect().folder().to_string(),
        queries: catalog
            .files()
            .map(|f| NamedSql {
                name: f.name.clone(),
                kind: match f.kind {
                    SqlKind::Query => "query",
                    SqlKind::Migration => "migration",
                    SqlKind::View => "view",
                }
                .to_string(),
                doc: f.doc.clone(),
                params: f
                    .params
                    .iter()
                    .map(|p| QueryParam {
                        name: p.name.clone(),
                        sql_type: p.sql_type.clone(),
                    })
                    .collect(),
                file: f.path.to_string(),
                sql: f.sql.to_string(),
            })
            .collect(),
    }
}

/// Health and support.
pub struct SupportApi {
    /// The store whose database is probed and whose catalog is served.
    pub store: PatchStore,
}

#[OpenApi]
impl SupportApi {
    /// Liveness probe
    ///
    /// 200 while the process serves requests; does not touch the database.
    #[oai(
        path = "/health/live",
        method = "get",
        tag = "ApiTags::Health",
        operation_id = "live"
    )]
    async fn live(&self) -> Health {
        Health::Ok(Json(HealthStatus {
            status: "ok".into(),
        }))
    }

    /// Readiness probe
    ///
    /// 200 when the database answers a query on the migrated schema, 503 otherwise.
    #[oai(
        path = "/health/ready",
        method = "get",
        tag = "ApiTags::Health",
        operation_id = "ready"
    )]
    async fn ready(&self) -> Result<Health, ApiError> {
        // Any database failure means "not ready": 503, so a load balancer routes around it.
        self.store
            .ready()
            .await
            .map_err(|e| ApiError::from(crate::store::StoreError::Unavailable(e.to_string())))?;
        Ok(Health::Ok(Json(HealthStatus {
            status: "ready".into(),
        })))
    }

    /// The SQL catalog
    ///
    /// Every named query, migration and view the service runs on this database, with
    /// its description, parameters and full SQL text. Logs name queries by `name`.
    #[oai(
        path = "/api/v1/queries",
        method = "get",
        tag = "ApiTags::Support",
        operation_id = "listQueries"
    )]
    async fn queries(&self) -> CatalogResponse {
        CatalogResponse::Ok(Json(catalog_body(self.store.database().catalog())))
    }
}
