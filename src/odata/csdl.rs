//! `$metadata`: the CSDL XML (OData v4) describing every entity set, from the catalog.

use crate::store::views::ReportCatalog;

/// The schema namespace of the reporting model.
pub const NAMESPACE: &str = "Patches.Reporting";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The CSDL XML document.
pub fn metadata(catalog: &ReportCatalog) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n\
         \x20 <edmx:Reference Uri=\"https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml\">\n\
         \x20   <edmx:Include Namespace=\"Org.OData.Core.V1\" Alias=\"Core\"/>\n\
         \x20 </edmx:Reference>\n\
         \x20 <edmx:DataServices>\n",
    );
    x.push_str(&format!(
        "    <Schema Namespace=\"{NAMESPACE}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n"
    ));
    for set in &catalog.entity_sets {
        x.push_str(&format!(
            "      <EntityType Name=\"{}\">\n        <Key>\n",
            set.name
        ));
        for key in &set.key {
            x.push_str(&format!("          <PropertyRef Name=\"{key}\"/>\n"));
        }
        x.push_str("        </Key>\n");
        for c in &set.columns {
            x.push_str(&format!(
                "        <Property Name=\"{}\" Type=\"{}\" Nullable=\"{}\">\n          <Annotation Term=\"Core.Description\" String=\"{}\"/>\n        </Property>\n",
                c.name,
                c.edm_type.edm_name(),
                c.nullable,
                escape(&c.doc)
            ));
        }
        x.push_str(&format!(
            "        <Annotation Term=\"Core.Description\" String=\"{}\"/>\n      </EntityType>\n",
            escape(&set.doc)
        ));
    }
    x.push_str("      <EntityContainer Name=\"Container\">\n");
    for set in &catalog.entity_sets {
        x.push_str(&format!(
            "        <EntitySet Name=\"{0}\" EntityType=\"{NAMESPACE}.{0}\"/>\n",
            set.name
        ));
    }
    x.push_str("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n");
    x
}
