//! What the signed-in user may do with an object and its records: object permissions (as
//! a profile or permission set grants them) and, for objects whose sharing model is
//! modelled, record ownership. Write paths ask here before validating; describe reads the
//! same permissions for its `createable`/`updateable`/`deletable`/`queryable` flags.
//! It never changes records.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;
use crate::org::OrgState;
use crate::schema::{ObjectDef, SharingModel};
use crate::store::Fields;

/// A user's permissions on one object, as Salesforce's object settings name them.
/// Without `read` the object is hidden: not in describe, `NOT_FOUND` on its resources,
/// `INVALID_TYPE` in SOQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPermissions {
    pub read: bool,
    pub create: bool,
    pub edit: bool,
    pub delete: bool,
    /// Has no effect in the test org: every object it models shows all records to readers.
    #[serde(default)]
    pub view_all: bool,
    /// Edit and delete records others own where the sharing model is Read.
    #[serde(default)]
    pub modify_all: bool,
}

impl ObjectPermissions {
    /// Hidden, as for a profile without Read.
    pub const NONE: Self = Self { read: false, create: false, edit: false, delete: false, view_all: false, modify_all: false };
    /// What `Ringside_Layout_Reader` grants on `Ringside_Layout__c`.
    pub const READ_ONLY: Self = Self { read: true, ..Self::NONE };
    /// Read, create, edit, delete: every object's default in the test org, and what
    /// `Ringside_Layout_Admin` grants on `Ringside_Layout__c`.
    pub const CRUD: Self = Self { read: true, create: true, edit: true, delete: true, view_all: false, modify_all: false };

    /// Salesforce's dependencies: nothing without Read, Delete needs Edit, Modify All
    /// implies everything.
    pub(crate) fn normalized(mut self) -> Self {
        if self.modify_all {
            return Self { read: true, create: true, edit: true, delete: true, view_all: true, modify_all: true };
        }
        if !self.read {
            return Self::NONE;
        }
        self.delete &= self.edit;
        self
    }
}

impl Default for ObjectPermissions {
    fn default() -> Self {
        Self::CRUD
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Create,
    Edit,
    Delete,
}

/// `INSUFFICIENT_ACCESS_OR_READONLY`, as Salesforce refuses a write the user may not make.
pub(crate) fn insufficient_access() -> FieldError {
    FieldError::new("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", vec![])
}

impl OrgState {
    pub(crate) fn permissions(&self, object: &str) -> ObjectPermissions {
        self.object_permissions
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(object))
            .map_or(ObjectPermissions::CRUD, |(_, p)| *p)
    }

    pub(crate) fn accessible(&self, object: &str) -> bool {
        self.permissions(object).read
    }

    /// May `user_id` carry out `op` on this object (and, for edit and delete, on this
    /// record)? Under a Read sharing model only the owner, or a user with Modify All,
    /// changes a record.
    pub(crate) fn may(&self, def: &ObjectDef, op: Operation, record: Option<&Fields>, user_id: &str) -> Result<(), FieldError> {
        let perms = self.permissions(def.name);
        let allowed = match op {
            Operation::Create => perms.create,
            Operation::Edit => perms.edit,
            Operation::Delete => perms.delete,
        };
        if !allowed {
            return Err(insufficient_access());
        }
        let owner = record.and_then(|r| r.get("OwnerId")).and_then(Value::as_str);
        let shared_read_only = def.sharing_model == Some(SharingModel::Read) && op != Operation::Create;
        if shared_read_only && !perms.modify_all && owner.is_some_and(|o| o != user_id) {
            return Err(insufficient_access());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_salesforces_dependencies() {
        let no_read = ObjectPermissions { read: false, ..ObjectPermissions::CRUD };
        assert_eq!(no_read.normalized(), ObjectPermissions::NONE, "nothing is allowed without Read");
        let delete_only = ObjectPermissions { edit: false, ..ObjectPermissions::CRUD };
        assert!(!delete_only.normalized().delete, "Delete needs Edit");
        let modify_all = ObjectPermissions { modify_all: true, ..ObjectPermissions::NONE };
        assert!(modify_all.normalized().edit, "Modify All implies the rest");
    }
}
