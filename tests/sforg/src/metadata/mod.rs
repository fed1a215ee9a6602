//! The custom objects and permission sets Ringside ships in `assets/salesforce/force-app`
//! (Metadata API source format), read into the schema. `build.rs` embeds the files; this
//! module turns `CustomObject`/`CustomField` XML into `ObjectDef`s with the standard
//! fields Salesforce adds to every custom object, and `PermissionSet` XML into object
//! permissions. What it cannot model it refuses (a panic naming the file at start-up and in
//! the unit tests below) rather than serve an object that differs from the deployed one.

mod xml;

use crate::access::ObjectPermissions;
use crate::schema::{self, DeleteConstraint, FieldDef, FieldType, ObjectDef, SharingModel};

/// One custom object's source files, as embedded by `build.rs`.
pub(crate) struct ObjectSource {
    pub name: &'static str,
    pub object: &'static str,
    /// `(field API name, file contents)`, by file name.
    pub fields: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/salesforce_metadata.rs"));

const NAMESPACE: &str = "http://soap.sforce.com/2006/04/metadata";
/// Key prefixes of custom objects, handed out in name order as an org would on deploy.
/// The product must never rely on them: a real org picks its own.
const KEY_PREFIXES: &[&str] = &["a00", "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09"];

fn leak(s: &str) -> &'static str {
    // Once per field at start-up: the schema lives as long as the process.
    Box::leak(s.to_string().into_boxed_str())
}

/// Every shipped custom object. Panics, naming the file and the fix, when the metadata
/// cannot be served faithfully.
pub(crate) fn custom_objects() -> Vec<ObjectDef> {
    assert!(CUSTOM_OBJECTS.len() <= KEY_PREFIXES.len(), "more custom objects than key prefixes: add prefixes");
    CUSTOM_OBJECTS
        .iter()
        .zip(KEY_PREFIXES)
        .map(|(source, prefix)| {
            object_def(source, prefix).unwrap_or_else(|e| {
                panic!("assets/salesforce/force-app/main/default/objects/{}: {e}; fix the metadata file", source.name)
            })
        })
        .collect()
}

fn root(src: &str, kind: &str) -> Result<xml::Element, String> {
    let doc = xml::parse(src).map_err(|e| e.to_string())?;
    if doc.name != kind {
        return Err(format!("the root element is <{}>, expected <{kind}>", doc.name));
    }
    if doc.attribute("xmlns") != Some(NAMESPACE) {
        return Err(format!("<{kind}> must declare xmlns=\"{NAMESPACE}\""));
    }
    Ok(doc)
}

fn required<'a>(el: &'a xml::Element, name: &str) -> Result<&'a str, String> {
    el.text_of(name).filter(|t| !t.is_empty()).ok_or_else(|| format!("<{}> has no <{name}>", el.name))
}

fn flag(el: &xml::Element, name: &str) -> Result<bool, String> {
    match el.text_of(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(format!("<{name}> must be true or false, not {other:?}")),
    }
}

fn number(el: &xml::Element, name: &str) -> Result<u32, String> {
    let text = required(el, name)?;
    text.parse().map_err(|_| format!("<{name}> must be a whole number, not {text:?}"))
}

fn object_def(source: &ObjectSource, key_prefix: &'static str) -> Result<ObjectDef, String> {
    let doc = root(source.object, "CustomObject").map_err(|e| format!("{}.object-meta.xml: {e}", source.name))?;
    let sharing_model = match doc.text_of("sharingModel") {
        Some("ReadWrite") => SharingModel::ReadWrite,
        Some("Read") => SharingModel::Read,
        other => return Err(format!("sharingModel {other:?} is not modelled by the test org (Read or ReadWrite)")),
    };
    let name_field = doc.child("nameField").ok_or("the object has no <nameField>")?;
    if name_field.text_of("type") != Some("Text") {
        return Err("only a Text name field is modelled".into());
    }
    let mut fields = schema::system_fields(true);
    // Without a name, Salesforce names a custom object's record after its id.
    let mut name = FieldDef::new("Name", leak(required(name_field, "label")?), FieldType::String, 80).name_field();
    name.nillable = false;
    name.defaulted_on_create = true;
    fields.push(name);
    fields.push(schema::datetime("LastViewedDate", "Last Viewed Date").read_only());
    fields.push(schema::datetime("LastReferencedDate", "Last Referenced Date").read_only());
    for (field_name, src) in source.fields {
        let field = field_def(field_name, src).map_err(|e| format!("fields/{field_name}.field-meta.xml: {e}"))?;
        fields.push(field);
    }
    Ok(ObjectDef {
        name: source.name,
        label: leak(required(&doc, "label")?),
        label_plural: leak(required(&doc, "pluralLabel")?),
        key_prefix,
        createable: true,
        custom: true,
        searchable: flag(&doc, "enableSearch")?,
        sharing_model: Some(sharing_model),
        fields,
    })
}

fn field_def(file_name: &'static str, src: &str) -> Result<FieldDef, String> {
    let doc = root(src, "CustomField")?;
    let full_name = required(&doc, "fullName")?;
    if full_name != file_name {
        return Err(format!("<fullName>{full_name}</fullName> differs from the file name"));
    }
    if !full_name.ends_with("__c") {
        return Err("a custom field's name ends with __c".into());
    }
    let label = leak(required(&doc, "label")?);
    let kind = required(&doc, "type")?;
    let mut f = match kind {
        "Text" => FieldDef::new(file_name, label, FieldType::String, number(&doc, "length")?),
        "TextArea" => FieldDef::new(file_name, label, FieldType::TextArea, 255),
        "LongTextArea" => {
            number(&doc, "visibleLines")?;
            FieldDef::new(file_name, label, FieldType::TextArea, number(&doc, "length")?)
        }
        "Email" => FieldDef::new(file_name, label, FieldType::Email, 80),
        "Phone" => FieldDef::new(file_name, label, FieldType::Phone, 40),
        "Url" => FieldDef::new(file_name, label, FieldType::Url, 255),
        "Date" => FieldDef::new(file_name, label, FieldType::Date, 0),
        "DateTime" => FieldDef::new(file_name, label, FieldType::DateTime, 0),
        "Checkbox" => {
            let mut f = FieldDef::new(file_name, label, FieldType::Boolean, 0);
            f.nillable = false;
            f.defaulted_on_create = true;
            f
        }
        "Number" => {
            let mut f = FieldDef::new(file_name, label, FieldType::Double, 0);
            f.precision = number(&doc, "precision")?;
            f.scale = number(&doc, "scale")?;
            if f.scale > f.precision || f.precision > 18 {
                return Err("a Number field has precision ≤ 18 and scale ≤ precision".into());
            }
            f
        }
        "Picklist" => picklist(&doc, file_name, label)?,
        "Lookup" => lookup(&doc, file_name, label)?,
        other => return Err(format!("field type {other} is not modelled by the test org")),
    };
    f.custom = true;
    if flag(&doc, "required")? {
        f.nillable = false;
    }
    f.external_id = flag(&doc, "externalId")?;
    f.unique = flag(&doc, "unique")?;
    f.case_sensitive = f.unique && flag(&doc, "caseSensitive")?;
    if f.external_id && !matches!(f.ty, FieldType::String | FieldType::Email | FieldType::Double) {
        return Err("only Text, Email and Number fields can be external ids".into());
    }
    Ok(f)
}

fn picklist(doc: &xml::Element, name: &'static str, label: &'static str) -> Result<FieldDef, String> {
    let set = doc.child("valueSet").ok_or("a Picklist needs a <valueSet>")?;
    let definition = set.child("valueSetDefinition").ok_or("only a local <valueSetDefinition> is modelled")?;
    let mut values = Vec::new();
    let mut default = None;
    for value in definition.children_named("value") {
        let api_name = leak(required(value, "fullName")?);
        if flag(value, "default")? {
            default = Some(api_name);
        }
        values.push(api_name);
    }
    if values.is_empty() {
        return Err("a Picklist needs values".into());
    }
    let mut f = FieldDef::new(name, label, FieldType::Picklist, 255);
    f.picklist = Box::leak(values.into_boxed_slice());
    f.restricted = flag(set, "restricted")?;
    if let Some(d) = default {
        f.default_value = Some(d);
        f.defaulted_on_create = true;
    }
    Ok(f)
}

fn lookup(doc: &xml::Element, name: &'static str, label: &'static str) -> Result<FieldDef, String> {
    let target = required(doc, "referenceTo")?;
    let child = required(doc, "relationshipName")?;
    match doc.text_of("deleteConstraint") {
        None | Some("SetNull") => {}
        Some(other) => return Err(format!("deleteConstraint {other} is not modelled (SetNull is)")),
    }
    let parent_rel = format!("{}__r", name.trim_end_matches("__c"));
    let mut f = schema::lookup(name, label, Box::leak(vec![leak(target)].into_boxed_slice()), leak(&parent_rel));
    f.child_relationship = Some(leak(&format!("{child}__r")));
    f.delete_constraint = Some(DeleteConstraint::SetNull);
    Ok(f)
}

/// The object permissions a shipped permission set grants, by object name; `None` when no
/// set has that name. (Field permissions are not modelled: the unit tests check that the
/// sets grant every custom field.)
pub(crate) fn permission_set(name: &str) -> Option<Vec<(String, ObjectPermissions)>> {
    let (name, src) = PERMISSION_SETS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(object_permissions(src).unwrap_or_else(|e| {
        panic!("assets/salesforce/force-app/main/default/permissionsets/{name}.permissionset-meta.xml: {e}; fix the file")
    }))
}

fn object_permissions(src: &str) -> Result<Vec<(String, ObjectPermissions)>, String> {
    let doc = root(src, "PermissionSet")?;
    required(&doc, "label")?;
    let mut objects = Vec::new();
    for o in doc.children_named("objectPermissions") {
        let perms = ObjectPermissions {
            read: flag(o, "allowRead")?,
            create: flag(o, "allowCreate")?,
            edit: flag(o, "allowEdit")?,
            delete: flag(o, "allowDelete")?,
            view_all: flag(o, "viewAllRecords")?,
            modify_all: flag(o, "modifyAllRecords")?,
        };
        objects.push((required(o, "object")?.to_string(), perms));
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: &str = "Ringside_Layout__c";

    fn layout() -> &'static ObjectDef {
        schema::object(LAYOUT).expect("the shipped layout object is in the schema")
    }

    #[test]
    fn the_shipped_layout_object_reads_with_its_exact_fields() {
        let def = layout();
        assert_eq!((def.label, def.label_plural, def.custom), ("Ringside Layout", "Ringside Layouts", true));
        assert_eq!(def.sharing_model, Some(SharingModel::Read));
        assert_eq!(def.field("Name").unwrap().label, "Layout Name");
        let version = def.field("Version__c").unwrap();
        assert_eq!((version.ty, version.precision, version.scale, version.label), (FieldType::Double, 18, 0, "Version"));
        let body = def.field("Body__c").unwrap();
        assert_eq!((body.ty, body.length, body.label), (FieldType::TextArea, 131_072, "Layout JSON"));
        assert!(!body.filterable() && !body.sortable(), "long text areas are neither filterable nor sortable");
        let scope = def.field("Scope__c").unwrap();
        assert_eq!((scope.picklist, scope.restricted, scope.label), (&["Org", "Profile", "User"][..], true, "Assigned To"));
        assert_eq!(def.field("Profile_Id__c").unwrap().length, 18);
        let user = def.field("User__c").unwrap();
        assert_eq!(user.reference_to, &["User"]);
        assert_eq!(user.relationship_name, Some("User__r"));
        assert_eq!(user.child_relationship, Some("Ringside_Layouts__r"));
        assert_eq!(user.delete_constraint, Some(DeleteConstraint::SetNull));
        let target = def.field("Target__c").unwrap();
        assert!(target.external_id && target.unique && target.case_sensitive, "Target__c is the unique, case-sensitive upsert key");
        assert_eq!(target.length, 40);
    }

    /// `(Object.Field, readable, editable)` of a shipped permission set.
    fn field_permissions(name: &str) -> Vec<(String, bool, bool)> {
        let (_, src) = PERMISSION_SETS.iter().find(|(n, _)| *n == name).expect("the set is shipped");
        let doc = root(src, "PermissionSet").unwrap();
        doc.children_named("fieldPermissions")
            .map(|f| (required(f, "field").unwrap().to_string(), flag(f, "readable").unwrap(), flag(f, "editable").unwrap()))
            .collect()
    }

    #[test]
    fn the_permission_sets_grant_what_the_org_presets_model() {
        let admin = permission_set("Ringside_Layout_Admin").expect("the admin permission set is shipped");
        let reader = permission_set("Ringside_Layout_Reader").expect("the reader permission set is shipped");
        let everything = ObjectPermissions { view_all: true, modify_all: true, ..ObjectPermissions::CRUD };
        assert_eq!(admin, vec![(LAYOUT.to_string(), everything)], "admins change any layout, whoever published it");
        assert_eq!(reader, vec![(LAYOUT.to_string(), ObjectPermissions::READ_ONLY)]);
        // Every custom field needs field-level security in both sets, or it is invisible.
        let (admin_fields, reader_fields) = (field_permissions("Ringside_Layout_Admin"), field_permissions("Ringside_Layout_Reader"));
        let custom: Vec<_> = layout().fields.iter().filter(|f| f.custom).collect();
        for f in &custom {
            let key = format!("{LAYOUT}.{}", f.name);
            assert!(admin_fields.contains(&(key.clone(), true, true)), "{key}: admins read and edit it");
            assert!(reader_fields.contains(&(key.clone(), true, false)), "{key}: readers read it only");
        }
        assert_eq!((admin_fields.len(), reader_fields.len()), (custom.len(), custom.len()), "no permissions for fields that do not exist");
    }

    #[test]
    fn custom_lookups_point_at_objects_the_org_has() {
        for def in schema::objects().iter().filter(|d| d.custom) {
            for f in def.fields.iter().filter(|f| f.custom) {
                for target in f.reference_to {
                    assert!(schema::object(target).is_some(), "{}.{} points at {target}, which the org lacks", def.name, f.name);
                }
            }
        }
    }

    #[test]
    fn metadata_the_org_cannot_model_is_refused_with_the_reason() {
        let field = |body: &str| {
            format!("<CustomField xmlns=\"{NAMESPACE}\"><fullName>X__c</fullName><label>X</label>{body}</CustomField>")
        };
        let err = field_def("X__c", &field("<type>Formula</type>")).unwrap_err();
        assert!(err.contains("Formula"), "{err}");
        let err = field_def("X__c", &field("<type>Lookup</type><referenceTo>User</referenceTo><relationshipName>R</relationshipName><deleteConstraint>Cascade</deleteConstraint>")).unwrap_err();
        assert!(err.contains("Cascade"), "{err}");
        let err = field_def("Y__c", &field("<type>Text</type><length>5</length>")).unwrap_err();
        assert!(err.contains("file name"), "{err}");
        let err = root("<CustomField><fullName>X__c</fullName></CustomField>", "CustomField").unwrap_err();
        assert!(err.contains("xmlns"), "{err}");
    }
}
