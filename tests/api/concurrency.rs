//! Concurrent writers: a version guards every write and none is lost.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{id_of, patch_body, spawn_app};

const WRITERS: usize = 40;

/// The status, printing the body of anything but 200 or 409 so a failure explains itself.
async fn checked(resp: reqwest::Response) -> StatusCode {
    let status = resp.status();
    if status != StatusCode::OK && status != StatusCode::CONFLICT {
        eprintln!(
            "unexpected {status}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writes_with_the_same_if_match_give_one_success_and_conflicts() {
    let app = std::sync::Arc::new(spawn_app().await);
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let body =
                    json!({ "name": format!("Officer {i}"), "responsibleType": "HousingOfficer" });
                let path = format!("/api/v1/patch/{id}/responsible-entity/{}", Uuid::new_v4());
                checked(
                    app.send(Method::PATCH, &path, Some("\"1\""), Some(&body))
                        .await,
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (1, WRITERS - 1), "{statuses:?}");
    let patch: Value = app
        .get(&format!("/api/v1/patch/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patch["versionNumber"], 2);
    assert_eq!(patch["responsibleEntities"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writes_without_if_match_all_apply_and_none_is_lost() {
    let app = std::sync::Arc::new(spawn_app().await);
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let people: Vec<Uuid> = (0..WRITERS).map(|_| Uuid::new_v4()).collect();
    let tasks: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, person)| {
            let (app, person) = (app.clone(), *person);
            tokio::spawn(async move {
                let body =
                    json!({ "name": format!("Officer {i}"), "responsibleType": "HousingOfficer" });
                let path = format!("/api/v1/patch/{id}/responsible-entity/{person}");
                checked(app.send(Method::PATCH, &path, None, Some(&body)).await).await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let patch: Value = app
        .get(&format!("/api/v1/patch/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patch["versionNumber"], 1 + WRITERS as i64);
    let present: Vec<Uuid> = patch["responsibleEntities"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    for person in &people {
        assert!(present.contains(person), "entity {person} was lost");
    }
    let history: Value = app
        .get(&format!("/api/v1/patch/{id}/history?pageSize=100"))
        .await
        .json()
        .await
        .unwrap();
    let mut versions: Vec<i64> = history["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["versionNumber"].as_i64().unwrap())
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        (1..=1 + WRITERS as i64).collect::<Vec<_>>(),
        "one history row per version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_never_make_a_cycle() {
    let app = std::sync::Arc::new(spawn_app().await);
    let root = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    for round in 0..5 {
        let a = id_of(
            &app.create(&patch_body(&format!("A{round}"), "area", Some(root)))
                .await,
        );
        let b = id_of(
            &app.create(&patch_body(&format!("B{round}"), "area", Some(root)))
                .await,
        );
        let moves = [(a, b), (b, a)].map(|(child, parent)| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = patch_body("Moved", "area", Some(parent));
                checked(
                    app.send(
                        Method::PUT,
                        &format!("/api/v1/patch/{child}"),
                        None,
                        Some(&body),
                    )
                    .await,
                )
                .await
            })
        });
        let mut statuses = Vec::new();
        for m in moves {
            statuses.push(m.await.unwrap());
        }
        let parent_of = |v: &Value| v["parentId"].as_str().map(str::to_string);
        let pa: Value = app
            .get(&format!("/api/v1/patch/{a}"))
            .await
            .json()
            .await
            .unwrap();
        let pb: Value = app
            .get(&format!("/api/v1/patch/{b}"))
            .await
            .json()
            .await
            .unwrap();
        let cycle = parent_of(&pa) == Some(b.to_string()) && parent_of(&pb) == Some(a.to_string());
        assert!(
            !cycle,
            "round {round}: A and B became each other's parent ({statuses:?})"
        );
        assert!(
            statuses.contains(&StatusCode::OK),
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY),
            "round {round}: the second move must see the first: {statuses:?}"
        );
    }
}
