//! Docs are part of the feature: the support guide names every shipped SQL file, and
//! the reporting guide documents every entity set and column of the catalog.

use patches::store::{catalog::all_files, views::ReportCatalog};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn support_guide_names_every_sql_file_and_no_missing_one() {
    let doc = read("docs/support.md");
    let files = all_files().unwrap();
    for f in files {
        assert!(
            doc.contains(&format!("`{}`", f.name)),
            "docs/support.md does not mention `{}` ({})",
            f.name,
            f.path
        );
    }
    // Every `name.sql` or sql/…/name path the guide cites exists.
    for word in
        doc.split(|c: char| c.is_whitespace() || c == '`' || c == '(' || c == ')' || c == '|')
    {
        if let Some(stem) = word.strip_suffix(".sql") {
            let name = stem.rsplit('/').next().unwrap_or(stem);
            if name.is_empty() || name.contains('<') || name.contains('*') {
                continue;
            }
            assert!(
                files.iter().any(|f| f.name == name),
                "docs/support.md cites {word}, which does not exist"
            );
        }
    }
}

#[test]
fn reporting_guide_documents_every_entity_set_and_column() {
    let doc = read("docs/reporting.md");
    for set in &ReportCatalog::get().entity_sets {
        assert!(
            doc.contains(&format!("### {}", set.name)),
            "docs/reporting.md has no section for {}",
            set.name
        );
        for c in &set.columns {
            assert!(
                doc.contains(&format!("`{}`", c.name)),
                "docs/reporting.md does not document {}.{}",
                set.name,
                c.name
            );
        }
    }
}
