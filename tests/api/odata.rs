//! The reporting API over HTTP: every option, operator and function, paging both ways,
//! CSV, errors, injection attempts.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, id_of, officer, patch_body, spawn_app, spawn_app_with};

async fn demo_app() -> TestApp {
    spawn_app_with(&[("PATCHES_DEMO_DATA", "true")]).await
}

async fn odata(app: &TestApp, path_and_query: &str) -> (StatusCode, Value) {
    let resp = app.get(&format!("/api/v1/odata/{path_and_query}")).await;
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn names(page: &Value, column: &str) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[column].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn service_document_and_metadata_list_every_entity_set() {
    let app = demo_app().await;
    let resp = app.get("/api/v1/odata").await;
    let status = resp.status();
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let sets: Vec<&str> = doc["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for set in [
        "Patches",
        "PatchResponsibleEntities",
        "PatchHierarchy",
        "PropertyPatches",
        "PatchChanges",
    ] {
        assert!(sets.contains(&set), "{set} missing");
    }
    let resp = app.get("/api/v1/odata/$metadata").await;
    assert_eq!(resp.headers()["odata-version"], "4.0");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<EntitySet Name=\"Patches\" EntityType=\"Patches.Reporting.Patches\"/>"));
    assert!(xml.contains(
        "<Property Name=\"patchCreatedAt\" Type=\"Edm.DateTimeOffset\" Nullable=\"false\">"
    ));
    assert!(xml.contains("<PropertyRef Name=\"responsibleEntityId\"/>"));
}

#[tokio::test]
async fn json_pages_carry_context_count_and_flat_rows_with_every_selected_column() {
    let app = demo_app().await;
    let resp = app.get("/api/v1/odata/Patches?$count=true&$top=5&$select=patchName,areaName,parentPatchId,patchCreatedAt").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["odata-version"], "4.0");
    assert_eq!(resp.headers()["x-total-count"], "46");
    let page: Value = resp.json().await.unwrap();
    assert!(page["@odata.context"].as_str().unwrap().ends_with(
        "/api/v1/odata/$metadata#Patches(patchName,areaName,parentPatchId,patchCreatedAt)"
    ));
    assert_eq!(page["@odata.count"], 46);
    let rows = page["value"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["patchName", "areaName", "parentPatchId", "patchCreatedAt"]
        );
        let at = row["patchCreatedAt"].as_str().unwrap();
        assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    }
    assert!(
        page.get("@odata.nextLink").is_none(),
        "$top=5 was satisfied"
    );
}

#[tokio::test]
async fn next_links_read_every_row_exactly_once_in_order() {
    let app = demo_app().await;
    for orderby in [
        "",
        "&$orderby=areaName desc,patchType",
        "&$orderby=leadOfficerEmail,patchVersionNumber desc",
    ] {
        let mut url = format!(
            "{}/api/v1/odata/Patches?$select=patchId,patchName&$count=true{orderby}",
            app.address
        );
        let mut seen = Vec::new();
        let mut pages = 0;
        while pages < 100 {
            let resp = app
                .client
                .get(&url)
                .header("Prefer", "odata.maxpagesize=7")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let header_link = resp
                .headers()
                .get("x-next-link")
                .map(|v| v.to_str().unwrap().to_string());
            let page: Value = resp.json().await.unwrap();
            assert_eq!(page["@odata.count"], 46);
            seen.extend(
                page["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["patchId"].as_str().unwrap().to_string()),
            );
            pages += 1;
            let body_link = page["@odata.nextLink"].as_str().map(str::to_string);
            assert_eq!(header_link, body_link);
            match body_link {
                Some(next) => {
                    assert!(next.starts_with("http://"), "links are absolute: {next}");
                    url = next;
                }
                None => break,
            }
        }
        assert_eq!(pages, 7, "{orderby}");
        assert_eq!(seen.len(), 46);
        assert_eq!(
            seen.iter().collect::<BTreeSet<_>>().len(),
            46,
            "{orderby}: a row was read twice"
        );
    }
}

#[tokio::test]
async fn offset_paging_with_skip_and_top_reads_every_row_exactly_once() {
    let app = demo_app().await;
    let mut seen = Vec::new();
    let mut skip = 0;
    loop {
        let (_, page) = odata(
            &app,
            &format!("PropertyPatches?$select=propertyRef&$top=30&$skip={skip}&$count=true"),
        )
        .await;
        let rows = page["value"].as_array().unwrap();
        if rows.is_empty() {
            break;
        }
        seen.extend(
            rows.iter()
                .map(|r| r["propertyRef"].as_str().unwrap().to_string()),
        );
        skip += 30;
    }
    assert_eq!(seen.len(), 200);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 200);
    let (status, page) = odata(&app, "PropertyPatches?$skip=5000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["value"], json!([]));
}

#[tokio::test]
async fn top_limits_across_pages_and_next_links_carry_the_remainder() {
    let app = demo_app().await;
    let url = format!(
        "{}/api/v1/odata/PropertyPatches?$top=25&$select=propertyRef",
        app.address
    );
    let resp = app
        .client
        .get(&url)
        .header("Prefer", "odata.maxpagesize=10")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains("%24top=15") || next.contains("$top=15"),
        "{next}"
    );
    let mut total = 10;
    let mut link = Some(next.to_string());
    while let Some(l) = link {
        let page: Value = app
            .client
            .get(&l)
            .header("Prefer", "odata.maxpagesize=10")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        total += page["value"].as_array().unwrap().len();
        link = page["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(total, 25);
}

#[tokio::test]
async fn public_url_sets_the_base_of_every_link() {
    let app = spawn_app_with(&[
        ("PATCHES_DEMO_DATA", "true"),
        ("PATCHES_PUBLIC_URL", "https://reports.example.org/patches/"),
    ])
    .await;
    let resp = app
        .client
        .get(app.url("/api/v1/odata/Patches?$top=2"))
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    assert!(
        page["@odata.context"]
            .as_str()
            .unwrap()
            .starts_with("https://reports.example.org/patches/api/v1/odata/$metadata")
    );
    assert!(page["@odata.nextLink"].is_null());
    let resp = app
        .client
        .get(app.url("/api/v1/odata/Patches"))
        .header("Prefer", "odata.maxpagesize=5")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    assert!(
        page["@odata.nextLink"]
            .as_str()
            .unwrap()
            .starts_with("https://reports.example.org/patches/api/v1/odata/Patches?")
    );
}

#[tokio::test]
async fn max_page_size_from_configuration_caps_every_page() {
    let app = spawn_app_with(&[
        ("PATCHES_DEMO_DATA", "true"),
        ("PATCHES_MAX_PAGE_SIZE", "10"),
    ])
    .await;
    let resp = app
        .client
        .get(app.url("/api/v1/odata/Patches"))
        .header("Prefer", "odata.maxpagesize=500")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn every_operator_and_function_filters_as_documented() {
    let app = demo_app().await;
    let count = |f: &'static str| {
        let app = &app;
        async move {
            let (status, page) = odata(
                app,
                &format!(
                    "Patches?$filter={}&$count=true&$select=patchId",
                    urlencode(f)
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{f}: {page}");
            page["@odata.count"].as_i64().unwrap()
        }
    };
    assert_eq!(count("patchType eq 'patch'").await, 40);
    assert_eq!(count("patchType ne 'patch'").await, 6);
    assert_eq!(
        count("patchType eq 'PATCH'").await,
        40,
        "string comparison is case-insensitive"
    );
    assert_eq!(
        count("patchName gt 'HX'").await,
        17,
        "HX1..HX8, SN1..SN8 and Stoke Newington Area"
    );
    assert_eq!(count("patchName ge 'SN1' and patchName le 'SN3'").await, 3);
    assert_eq!(count("patchName lt 'CL2'").await, 1);
    assert_eq!(
        count("responsibleEntityCount ge 3").await,
        10,
        "patches 3 and 6 of each area have two officers and a group"
    );
    assert_eq!(count("parentPatchId eq null").await, 1);
    assert_eq!(count("parentPatchId ne null").await, 45);
    assert_eq!(
        count("patchId eq 0d7a5a7e-9c0b-4f6e-8f0e-6a1c2b3d4e5f").await,
        1
    );
    assert_eq!(count("patchName in ('CL1', 'cl2', 'nope')").await, 2);
    assert_eq!(count("not (patchType eq 'patch')").await, 6);
    assert_eq!(count("patchType eq 'area' or patchName eq 'CL1'").await, 7);
    assert_eq!(
        count("(patchType eq 'area' or patchName eq 'CL1') and areaName eq null").await,
        1,
        "only the root has no area above it"
    );
    assert_eq!(count("contains(patchName, 'Area')").await, 5);
    assert_eq!(count("startswith(patchName, 'hx')").await, 8);
    assert_eq!(count("endswith(patchName, '8')").await, 5);
    assert_eq!(count("tolower(patchName) eq 'cl1'").await, 1);
    assert_eq!(count("toupper(areaName) eq 'CLAPTON AREA'").await, 8);
    assert_eq!(count("patchCreatedAt gt 2000-01-01").await, 46);
    assert_eq!(count("patchCreatedAt lt 2000-01-01T00:00:00Z").await, 0);
    assert_eq!(count("true").await, 46);
    // OData compares null as a value: the root (no area) is "ne" any area, and `not`
    // of a false comparison with null is true.
    assert_eq!(count("areaName ne 'Clapton Area'").await, 38);
    assert_eq!(count("not (areaName eq 'Clapton Area')").await, 38);
    assert_eq!(
        count("areaName gt 'A'").await,
        45,
        "an ordering with null is false"
    );
    assert_eq!(count("not (areaName gt 'A')").await, 1);
    assert_eq!(
        count("contains(patchName, '%')").await,
        0,
        "LIKE wildcards are escaped"
    );
    assert_eq!(
        count("contains(patchName, '_')").await,
        0,
        "LIKE wildcards are escaped"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn orderby_sorts_by_several_keys_with_the_key_last() {
    let app = demo_app().await;
    let (_, page) = odata(&app, "Patches?$filter=patchType%20eq%20'patch'&$orderby=areaName%20desc,patchName%20desc&$select=patchName,areaName&$top=3").await;
    assert_eq!(names(&page, "patchName"), ["SN8", "SN7", "SN6"]);
}

#[tokio::test]
async fn one_row_by_key_and_count_endpoint() {
    let app = demo_app().await;
    let (status, row) = odata(&app, "Patches(0d7a5a7e-9c0b-4f6e-8f0e-6a1c2b3d4e5f)").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row["patchName"], "Hackney");
    assert!(
        row["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#Patches/$entity")
    );
    let (status, _) = odata(&app, &format!("Patches({})", Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, row) = odata(&app, "PropertyPatches('100021000000')").await;
    assert_eq!(
        (status, row["propertyPatchName"].as_str()),
        (StatusCode::OK, Some("CL1"))
    );
    let (_, pre) = odata(&app, "PatchResponsibleEntities?$top=1").await;
    let first = &pre["value"][0];
    let (status, row) = odata(
        &app,
        &format!(
            "PatchResponsibleEntities(patchId={},responsibleEntityId={})",
            first["patchId"].as_str().unwrap(),
            first["responsibleEntityId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row["responsibleEntityName"], first["responsibleEntityName"]);
    let (status, _) = odata(&app, "Patches(not-a-guid)").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let resp = app
        .get("/api/v1/odata/Patches/$count?$filter=patchType%20eq%20'area'")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), "6");
}

#[tokio::test]
async fn csv_streams_the_whole_result_with_a_header_and_iso_timestamps() {
    let app = demo_app().await;
    let resp = app.get("/api/v1/odata/PropertyPatches?$format=csv").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "propertyRef");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 200, "CSV is not paged");
    assert!(rows[0][8].ends_with('Z'));
    assert!(text.contains("\r\n"), "RFC 4180 line ends");

    let resp = app
        .client
        .get(app.url(
            "/api/v1/odata/Patches?$top=3&$select=patchName,parentPatchId&$orderby=parentPatchId",
        ))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "patchName,parentPatchId");
    assert!(
        lines.iter().any(|l| l.ends_with(',')),
        "null is an empty field: {text}"
    );
}

#[tokio::test]
async fn csv_round_trips_commas_quotes_and_non_ascii() {
    let app = spawn_app().await;
    let tricky = [
        "Smith, Jones & Co",
        "The \"Quoted\" Patch",
        "Łódź Ærø 東京",
        "'; DROP TABLE patch; --",
    ];
    for name in tricky {
        let mut body = patch_body(name, "patch", None);
        body["responsibleEntities"] = json!([officer(Uuid::new_v4(), "Zoë O'Brien")]);
        app.create(&body).await;
    }
    let text = app
        .get("/api/v1/odata/Patches?$format=csv&$select=patchName,leadOfficerName")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let got: BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(got, tricky.iter().map(|s| s.to_string()).collect());
    assert!(text.contains("Zoë O'Brien"));
}

#[tokio::test]
async fn every_bad_option_answers_400_in_odata_error_format() {
    let app = demo_app().await;
    for (query, target) in [
        ("$filter=patchName%20eq", "$filter"),
        ("$filter=nope%20eq%201", "$filter"),
        ("$filter=patchName%20eq%201", "$filter"),
        ("$select=nope", "$select"),
        ("$orderby=nope", "$orderby"),
        ("$top=-1", "$top"),
        ("$top=abc", "$top"),
        ("$skip=x", "$skip"),
        ("$count=maybe", "$count"),
        ("$skiptoken=xyz", "$skiptoken"),
        ("$format=yaml", "$format"),
        ("$unknown=1", "$unknown"),
    ] {
        let (status, body) = odata(&app, &format!("Patches?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["target"], target, "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn unsupported_features_answer_501_and_unknown_sets_404() {
    let app = demo_app().await;
    for query in [
        "$expand=x",
        "$apply=groupby((patchType))",
        "$search=cp",
        "$filter=length(patchName)%20gt%202",
        "$format=xml",
    ] {
        let (status, body) = odata(&app, &format!("Patches?{query}")).await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{query}");
        assert_eq!(body["error"]["code"], "NotImplemented");
    }
    let (status, body) = odata(&app, "Nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NotFound");
    let (status, body) = odata(&app, "Patches/extra/segments").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"].is_string(),
        "OData format even for unknown routes: {body}"
    );
}

#[tokio::test]
async fn injection_attempts_give_400_or_no_rows_and_leave_data_intact() {
    let app = demo_app().await;
    for filter in [
        "patchName eq 'x'' OR 1=1 --'",
        "patchName eq 'x'; DROP TABLE patch; --'",
        "patchName eq 'a' or 1 eq 1",
        "patchName eq 'a'); DELETE FROM patch; --",
        "contains(patchName, ''' OR ''1''=''1')",
    ] {
        let (status, body) = odata(&app, &format!("Patches?$filter={}", urlencode(filter))).await;
        match status {
            StatusCode::OK => assert_eq!(body["value"], json!([]), "{filter}"),
            StatusCode::BAD_REQUEST => {}
            other => panic!("{filter}: {other}"),
        }
    }
    for select in [
        "patchName;DROP TABLE patch",
        "patchName FROM patch --",
        "*,(SELECT 1)",
    ] {
        let (status, _) = odata(&app, &format!("Patches?$select={}", urlencode(select))).await;
        assert!(
            status.is_client_error() || status == StatusCode::NOT_IMPLEMENTED,
            "{select}"
        );
    }
    let (status, _) = odata(
        &app,
        &format!(
            "Patches?$orderby={}",
            urlencode("patchName; DROP TABLE patch")
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = odata(&app, "Patches?$count=true&$top=0").await;
    assert_eq!(page["@odata.count"], 46, "data intact");
}

#[tokio::test]
async fn reporting_views_reflect_writes_made_through_the_crud_api() {
    let app = spawn_app().await;
    let (_root, area, patch) = app.tree().await;
    let manager = Uuid::new_v4();
    app.send(
        Method::PATCH,
        &format!("/api/v1/patch/{area}/responsible-entity/{manager}"),
        None,
        Some(&json!({ "name": "Mia Manager", "type": "HousingAreaManager" })),
    )
    .await;
    let lead = Uuid::new_v4();
    app.send(Method::PUT, &format!("/api/v1/patch/{patch}/responsible-entities"), None, Some(&json!([{ "id": Uuid::new_v4(), "name": "Team", "type": "Group" }, officer(lead, "Lee Lead")]))).await;
    app.send(
        Method::PUT,
        "/api/v1/properties/UPRN-1/patch",
        None,
        Some(&json!({ "patchId": patch })),
    )
    .await;
    let (_, row) = odata(&app, &format!("Patches({patch})")).await;
    assert_eq!(row["areaName"], "North Area");
    assert_eq!(row["leadOfficerId"], lead.to_string());
    assert_eq!(
        row["areaManagerName"], "Mia Manager",
        "the parent's area manager"
    );
    assert_eq!(row["responsibleEntityCount"], 2);
    let (_, h) = odata(&app, &format!("PatchHierarchy({patch})")).await;
    assert_eq!(
        (
            h["hierarchyDepth"].as_i64(),
            h["hierarchyLevel0Name"].as_str(),
            h["hierarchyLevel1Name"].as_str(),
            h["hierarchyLevel2Name"].as_str()
        ),
        (Some(2), Some("Borough"), Some("North Area"), Some("CP7"))
    );
    let (_, p) = odata(&app, "PropertyPatches('UPRN-1')").await;
    assert_eq!(
        (
            p["propertyOfficerName"].as_str(),
            p["propertyAreaManagerName"].as_str()
        ),
        (Some("Lee Lead"), Some("Mia Manager"))
    );
    let (_, changes) = odata(
        &app,
        &format!("PatchChanges?$filter=patchId%20eq%20{patch}&$orderby=changeId%20desc"),
    )
    .await;
    assert_eq!(changes["value"][0]["changeType"], "PropertyAssigned");
    let (_, entities) = odata(
        &app,
        &format!("PatchResponsibleEntities?$filter=patchId%20eq%20{patch}&$orderby=responsibleEntityPosition"),
    )
    .await;
    let positions: Vec<i64> = entities["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["responsibleEntityPosition"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2]);
    assert_eq!(
        id_of(&json!({"id": entities["value"][1]["responsibleEntityId"]})),
        lead
    );
}

#[tokio::test]
async fn connector_friendly_details_errors_carry_odata_version_and_options_are_lenient() {
    let app = demo_app().await;
    let resp = app.get("/api/v1/odata/Patches?$top=x").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["odata-version"], "4.0");
    let (status, page) = odata(&app, "Patches?$Top=2&$top=2&$SELECT=patchName").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    let (status, _) = odata(&app, "Patches?$top=2&$top=3").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let resp = app
        .client
        .get(app.url("/api/v1/odata/Patches"))
        .header("Host", "evil.example.org/x?")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(
        !page.to_string().contains("evil.example.org/x"),
        "Host must not be copied into links"
    );
}
