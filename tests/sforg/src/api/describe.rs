//! Describe documents built from the schema: `describeGlobal`, an object's basic info and
//! its full describe with fields, picklist values and record types.

use serde_json::{json, Value};

use crate::schema::{FieldDef, FieldType, ObjectDef};

fn urls(def: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", def.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// The short form used by describeGlobal and `GET /sobjects/{Obj}`.
pub(crate) fn basic(def: &ObjectDef, version: &str) -> Value {
    json!({
        "name": def.name,
        "label": def.label,
        "labelPlural": def.label_plural,
        "keyPrefix": def.key_prefix,
        "custom": false,
        "createable": def.createable,
        "updateable": def.createable,
        "deletable": def.createable,
        "queryable": true,
        "searchable": def.name != "Task" && def.name != "Event",
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
        "custom": false,
        "calculated": false,
        "autoNumber": f.name == "CaseNumber",
        "caseSensitive": false,
        "externalId": false,
        "filterable": !(f.ty == FieldType::TextArea && f.length > 255),
        "sortable": !(f.ty == FieldType::TextArea && f.length > 255),
        "groupable": !matches!(f.ty, FieldType::TextArea | FieldType::Currency | FieldType::Percent | FieldType::DateTime),
        "idLookup": f.ty == FieldType::Id || f.name == "Email" || f.name == "CaseNumber",
        "nameField": f.name_field,
        "unique": f.ty == FieldType::Id || f.name == "Username",
        "picklistValues": picklist,
        "restrictedPicklist": f.restricted,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "polymorphicForeignKey": f.reference_to.len() > 1,
        "htmlFormatted": false,
        "dependentPicklist": false,
    })
}

pub(crate) fn full(def: &ObjectDef, version: &str) -> Value {
    let mut v = basic(def, version);
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
    v["childRelationships"] = json!([]);
    v["searchLayoutable"] = json!(true);
    v
}
