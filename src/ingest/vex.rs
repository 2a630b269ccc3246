//! Vulnerability status statements: OpenVEX documents and CSAF VEX advisories.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text, time};
use crate::facts::{Facts, VexStatement};

/// Whether a document is OpenVEX.
pub fn is_openvex(document: &Value) -> bool {
    text(document, "/@context").is_some_and(|context| context.contains("openvex"))
}

/// Whether a document is a CSAF advisory.
pub fn is_csaf(document: &Value) -> bool {
    document.pointer("/document/csaf_version").is_some()
}

/// Reads OpenVEX statements, one per (vulnerability, product); a statement with no product applies to all.
pub fn parse_openvex(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("openvex", "openvex");
    facts.document_time = time(document, "/timestamp");
    for (index, statement) in array(document, "/statements").iter().enumerate() {
        let Some(vuln_id) = first_text(statement, &["/vulnerability/name", "/vulnerability/@id", "/vulnerability"])
        else {
            facts.skip("(statements) naming no vulnerability", format!("/statements/{index}"));
            continue;
        };
        let status = text(statement, "/status").unwrap_or_else(|| "under_investigation".into());
        let justification = first_text(statement, &["/justification", "/impact_statement", "/action_statement"]);
        let stated_at = time(statement, "/timestamp").or(facts.document_time);
        let mut products: Vec<Option<String>> = Vec::new();
        for product in array(statement, "/products") {
            let subcomponents = array(product, "/subcomponents");
            if let Value::String(id) = product {
                products.push(Some(id.clone()));
            } else if subcomponents.is_empty() {
                products.push(first_text(product, &["/@id", "/identifiers/purl"]));
            }
            products.extend(subcomponents.iter().map(|sub| first_text(sub, &["/@id", "/identifiers/purl"])));
        }
        if products.is_empty() {
            products.push(None);
        }
        for product in products {
            facts.vex_statements.push(VexStatement {
                format: "openvex".into(),
                vuln_id: vuln_id.clone(),
                product,
                status: status.clone(),
                justification: justification.clone(),
                stated_at,
            });
        }
    }
    Ok(facts)
}

/// Reads a CSAF advisory's product status lists, resolving product ids to purls through the product tree.
pub fn parse_csaf(document: &Value, _origin: &str) -> Result<Facts> {
    let version = text(document, "/document/csaf_version").unwrap_or_default();
    let mut facts = Facts::new("csaf", format!("csaf-{version}"));
    facts.document_time = first_text(document, &["/document/tracking/current_release_date"])
        .and_then(|t| super::json::time_of(&Value::String(t)));
    let mut purls = BTreeMap::new();
    collect_products(document.get("product_tree").unwrap_or(&Value::Null), &mut purls);
    let lists = [
        ("known_not_affected", "not_affected"),
        ("known_affected", "affected"),
        ("fixed", "fixed"),
        ("first_fixed", "fixed"),
        ("under_investigation", "under_investigation"),
    ];
    for (index, vulnerability) in array(document, "/vulnerabilities").iter().enumerate() {
        let Some(vuln_id) = first_text(vulnerability, &["/cve", "/ids/0/text"]) else {
            facts.skip("(vulnerabilities) without a CVE or id", format!("/vulnerabilities/{index}"));
            continue;
        };
        let flags: BTreeMap<String, String> = array(vulnerability, "/flags")
            .iter()
            .flat_map(|flag| {
                let label = text(flag, "/label").unwrap_or_default();
                array(flag, "/product_ids")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(move |id| (id.to_string(), label.clone()))
            })
            .collect();
        let impacts: BTreeMap<String, String> = array(vulnerability, "/threats")
            .iter()
            .filter(|threat| text(threat, "/category").as_deref() == Some("impact"))
            .flat_map(|threat| {
                let details = text(threat, "/details").unwrap_or_default();
                array(threat, "/product_ids")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(move |id| (id.to_string(), details.clone()))
            })
            .collect();
        for (list, status) in lists {
            for id in array(vulnerability, &format!("/product_status/{list}")).iter().filter_map(Value::as_str) {
                facts.vex_statements.push(VexStatement {
                    format: "csaf".into(),
                    vuln_id: vuln_id.clone(),
                    product: Some(purls.get(id).cloned().unwrap_or_else(|| id.to_string())),
                    status: status.into(),
                    justification: flags.get(id).or_else(|| impacts.get(id)).cloned(),
                    stated_at: facts.document_time,
                });
            }
        }
    }
    Ok(facts)
}

fn collect_products(node: &Value, purls: &mut BTreeMap<String, String>) {
    for product in array(node, "/full_product_names").iter().chain(node.get("product")) {
        if let (Some(id), Some(purl)) =
            (text(product, "/product_id"), text(product, "/product_identification_helper/purl"))
        {
            purls.insert(id, purl);
        }
    }
    for branch in array(node, "/branches") {
        collect_products(branch, purls);
    }
}
