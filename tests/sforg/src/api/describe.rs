//! Describe documents built from the schema: `describeGlobal`, an object's basic info and
//! its full describe with fields, picklist values, record types and child relationships.
//! The object-level flags follow the user's object permissions.

use serde_json::{json, Value};

use crate::access::ObjectPermissions;
use crate::schema::{self, FieldDef, FieldType, ObjectDef};

fn urls(def: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", def.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// The short form used by describeGlobal and `GET /sobjects/{Obj}`.
pub(crate) fn basic(def: &ObjectDef, version: &str, perms: ObjectPermissions) -> Value {
    json!({
        "name": def.name,
        "label": def.label,
        "labelPlural": def.label_plural,
        "keyPrefix": def.key_prefix,
        "custom": def.custom,
        "customSetting": false,
        "createable": def.createable && perms.create,
        "updateable": def.createable && perms.edit,
        "deletable": def.createable && perms.delete,
        "queryable": perms.read,
        "searchable": def.searchable && perms.read,
        "retrieveable": true,
        "layoutable": true,
        "urls": urls(def, version),
    })
}

fn field(f: &FieldDef) -> Value {
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|v| json!({"active": true, "defaultValue": f.default_value == Some(*v), "label": v, "validFor": null, "value": v}))
        .collect();
    let (precision, scale, digits) = match f.ty {
        FieldType::Currency => (18, 2, 0),
        FieldType::Percent => (18, 0, 0),
        FieldType::Int => (0, 0, 9),
        FieldType::Double => (f.precision, f.scale, 0),
        _ => (0, 0, 0),
    };
    let length = if f.ty.is_text() { f.length } else { 0 };
    json!({
        "name": f.name,
        "label": f.label,
        "type": f.ty.wire_name(),
        "soapType": f.ty.soap_type(),
        "length": length,
        "byteLength": length * 3,
        "precision": precision,
        "scale": scale,
        "digits": digits,
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "defaultedOnCreate": f.defaulted_on_create,
        "defaultValue": f.default_value,
        "custom": f.custom,
        "calculated": false,
        "autoNumber": f.name == "CaseNumber",
        "caseSensitive": f.case_sensitive,
        "externalId": f.external_id,
        "filterable": f.filterable(),
        "sortable": f.sortable(),
        "groupable": !matches!(
            f.ty,
            FieldType::TextArea | FieldType::Currency | FieldType::Percent | FieldType::DateTime | FieldType::Double
        ),
        "idLookup": f.ty == FieldType::Id || f.name == "Email" || f.name == "CaseNumber" || f.external_id,
        "nameField": f.name_field,
        "unique": f.ty == FieldType::Id || f.name == "Username" || f.unique,
        "extraTypeInfo": if f.ty == FieldType::TextArea { Some("plaintextarea") } else { None },
        "cascadeDelete": false,
        "restrictedDelete": false,
        "picklistValues": picklist,
        "restrictedPicklist": f.restricted,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "polymorphicForeignKey": f.reference_to.len() > 1,
        "htmlFormatted": false,
        "dependentPicklist": false,
    })
}

/// The custom lookups pointing at this object (`Ringside_Layouts__r` on User). Standard
/// objects' own child relationships are not modelled.
fn child_relationships(def: &ObjectDef) -> Vec<Value> {
    let mut out = Vec::new();
    for child in schema::objects() {
        for f in child.fields.iter().filter(|f| f.reference_to.contains(&def.name)) {
            if let Some(rel) = f.child_relationship {
                out.push(json!({
                    "childSObject": child.name,
                    "field": f.name,
                    "relationshipName": rel,
                    "cascadeDelete": false,
                    "restrictedDelete": false,
                    "deprecatedAndHidden": false,
                }));
            }
        }
    }
    out
}

pub(crate) fn full(def: &ObjectDef, version: &str, perms: ObjectPermissions) -> Value {
    let mut v = basic(def, version, perms);
    v["fields"] = Value::Array(def.fields.iter().map(field).collect());
    // Every org has the Master record type; the product must cope with "no others".
    v["recordTypeInfos"] = json!([{
        "active": true,
        "available": true,
        "defaultRecordTypeMapping": true,
        "developerName": "Master",
        "master": true,
        "name": "Master",
        "recordTypeId": "012000000000000AAA",
        "urls": {"layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/012000000000000AAA", def.name)},
    }]);
    v["childRelationships"] = Value::Array(child_relationships(def));
    v["searchLayoutable"] = json!(true);
    v
}
