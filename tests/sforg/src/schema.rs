//! The org's metadata: the standard objects the product uses, their fields with types,
//! lengths, picklists and permissions, plus the custom objects Ringside ships as Metadata
//! API source (read by `metadata` from `assets/salesforce`). Describe, validation, SOQL and
//! SOSL all read this one table, so they can never disagree. It holds no records.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Id,
    String,
    TextArea,
    Phone,
    Email,
    Url,
    Picklist,
    Reference,
    Boolean,
    Date,
    DateTime,
    Currency,
    Int,
    Percent,
    /// A custom Number field: a double with the field's precision and scale.
    Double,
}

impl FieldType {
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Phone => "phone",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Reference => "reference",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Currency => "currency",
            FieldType::Int => "int",
            FieldType::Percent => "percent",
            FieldType::Double => "double",
        }
    }

    pub(crate) fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Currency | FieldType::Percent | FieldType::Double => "xsd:double",
            FieldType::Int => "xsd:int",
            _ => "xsd:string",
        }
    }

    /// Values of these types travel as JSON strings and compare as text.
    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::TextArea
                | FieldType::Phone
                | FieldType::Email
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Reference
        )
    }

    pub(crate) fn is_number(self) -> bool {
        matches!(self, FieldType::Currency | FieldType::Int | FieldType::Percent | FieldType::Double)
    }
}

/// What happens to a lookup when the record it points to is deleted. Only `SetNull` is
/// modelled; the metadata reader refuses the others rather than misbehave quietly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteConstraint {
    SetNull,
}

/// An object's organization-wide default. `Read` (public read only): everyone with Read
/// sees every record, but only the owner (or a user with Modify All) edits or deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharingModel {
    ReadWrite,
    Read,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub picklist: &'static [&'static str],
    pub restricted: bool,
    pub default_value: Option<&'static str>,
    pub reference_to: &'static [&'static str],
    pub relationship_name: Option<&'static str>,
    pub name_field: bool,
    pub custom: bool,
    pub external_id: bool,
    pub unique: bool,
    /// Unique and compared case-sensitively (also in SOQL `=`, as Salesforce does).
    pub case_sensitive: bool,
    /// Number fields: total digits and digits after the point.
    pub precision: u32,
    pub scale: u32,
    /// The name of the child relationship on the parent (`Ringside_Layouts__r` on User).
    pub child_relationship: Option<&'static str>,
    pub delete_constraint: Option<DeleteConstraint>,
}

impl FieldDef {
    pub(crate) fn new(name: &'static str, label: &'static str, ty: FieldType, length: u32) -> Self {
        FieldDef {
            name,
            label,
            ty,
            length,
            nillable: true,
            createable: true,
            updateable: true,
            defaulted_on_create: false,
            picklist: &[],
            restricted: false,
            default_value: None,
            reference_to: &[],
            relationship_name: None,
            name_field: false,
            custom: false,
            external_id: false,
            unique: false,
            case_sensitive: false,
            precision: 0,
            scale: 0,
            child_relationship: None,
            delete_constraint: None,
        }
    }
    pub(crate) fn required(mut self) -> Self {
        self.nillable = false;
        self
    }
    pub(crate) fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }
    pub(crate) fn system(mut self) -> Self {
        self = self.read_only();
        self.nillable = false;
        self.defaulted_on_create = true;
        self
    }
    fn restricted(mut self) -> Self {
        self.restricted = true;
        self
    }
    /// Required, but filled with the default picklist value when absent on create.
    fn defaulted(mut self, value: &'static str) -> Self {
        self.nillable = false;
        self.defaulted_on_create = true;
        self.default_value = Some(value);
        self
    }
    pub(crate) fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }
    /// A field a person must fill in: not nillable, createable, and not defaulted.
    pub(crate) fn is_required_on_create(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create && self.ty != FieldType::Boolean
    }
    /// Long text areas (over 255 characters) cannot be filtered, sorted or grouped on.
    pub(crate) fn is_long_text(&self) -> bool {
        self.ty == FieldType::TextArea && self.length > 255
    }
    pub(crate) fn filterable(&self) -> bool {
        !self.is_long_text()
    }
    pub(crate) fn sortable(&self) -> bool {
        !self.is_long_text()
    }
}

fn text(name: &'static str, label: &'static str, len: u32) -> FieldDef {
    FieldDef::new(name, label, FieldType::String, len)
}
fn area(name: &'static str, label: &'static str, len: u32) -> FieldDef {
    FieldDef::new(name, label, FieldType::TextArea, len)
}
fn phone(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef::new(name, label, FieldType::Phone, 40)
}
fn email(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef::new(name, label, FieldType::Email, 80)
}
fn pick(name: &'static str, label: &'static str, values: &'static [&'static str]) -> FieldDef {
    let mut f = FieldDef::new(name, label, FieldType::Picklist, 255);
    f.picklist = values;
    f
}
fn date(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef::new(name, label, FieldType::Date, 0)
}
pub(crate) fn datetime(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef::new(name, label, FieldType::DateTime, 0)
}
fn boolean(name: &'static str, label: &'static str) -> FieldDef {
    let mut f = FieldDef::new(name, label, FieldType::Boolean, 0);
    f.nillable = false;
    f.defaulted_on_create = true;
    f
}
fn number(name: &'static str, label: &'static str, ty: FieldType) -> FieldDef {
    FieldDef::new(name, label, ty, 0)
}
pub(crate) fn lookup(name: &'static str, label: &'static str, to: &'static [&'static str], rel: &'static str) -> FieldDef {
    let mut f = FieldDef::new(name, label, FieldType::Reference, 18);
    f.reference_to = to;
    f.relationship_name = Some(rel);
    f
}

#[derive(Debug, Clone)]
pub(crate) struct ObjectDef {
    pub name: &'static str,
    pub label: &'static str,
    pub label_plural: &'static str,
    pub key_prefix: &'static str,
    /// Whether the API writes this object at all (User and Profile: no).
    pub createable: bool,
    pub custom: bool,
    pub searchable: bool,
    /// `None` for the standard objects: their sharing is not modelled (anyone with Edit edits).
    pub sharing_model: Option<SharingModel>,
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// Field names are case-insensitive in the API; the canonical spelling comes back.
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    pub(crate) fn relationship(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.relationship_name.is_some_and(|r| r.eq_ignore_ascii_case(name)))
    }
    /// The field that names a record ("Name", or "CaseNumber"/"Subject" where there is none).
    pub(crate) fn name_field_name(&self) -> &'static str {
        self.fields.iter().find(|f| f.name_field).map_or("Id", |f| f.name)
    }
    pub(crate) fn external_id_field(&self, name: &str) -> Option<&FieldDef> {
        self.field(name).filter(|f| f.external_id)
    }
}

const SALUTATIONS: &[&str] = &["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."];
const LEAD_SOURCES: &[&str] = &["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"];
const INDUSTRIES: &[&str] = &[
    "Banking", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Finance", "Healthcare",
    "Hospitality", "Insurance", "Manufacturing", "Media", "Retail", "Technology", "Telecommunications",
    "Transportation", "Other",
];
pub(crate) const LEAD_STATUSES: &[&str] =
    &["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"];
pub(crate) const STAGES: &[&str] = &[
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
];
pub(crate) const CASE_STATUSES: &[&str] = &["New", "Working", "Escalated", "Closed"];
/// `EmailMessage.Status`: Salesforce stores the code, and shows New, Read, Replied, Sent,
/// Forwarded and Draft.
pub(crate) const EMAIL_STATUSES: &[&str] = &["0", "1", "2", "3", "4", "5"];
/// `EmailMessage.Status` of an email the org sent.
pub(crate) const EMAIL_SENT: &str = "3";
pub(crate) const TASK_STATUSES: &[&str] =
    &["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"];

/// Fields every object has: id, audit fields, owner.
pub(crate) fn system_fields(owned: bool) -> Vec<FieldDef> {
    let mut v = vec![id_field(), boolean("IsDeleted", "Deleted").read_only()];
    if owned {
        let mut owner = lookup("OwnerId", "Owner ID", &["User"], "Owner");
        owner.nillable = false;
        owner.defaulted_on_create = true;
        v.push(owner);
    }
    v.extend(audit_fields());
    v
}

fn id_field() -> FieldDef {
    let mut id = FieldDef::new("Id", "Record ID", FieldType::Id, 18).system();
    id.defaulted_on_create = true;
    id
}

/// Who created and last changed a record, and when.
fn audit_fields() -> Vec<FieldDef> {
    vec![
        datetime("CreatedDate", "Created Date").system(),
        lookup("CreatedById", "Created By ID", &["User"], "CreatedBy").system(),
        datetime("LastModifiedDate", "Last Modified Date").system(),
        lookup("LastModifiedById", "Last Modified By ID", &["User"], "LastModifiedBy").system(),
        datetime("SystemModstamp", "System Modstamp").system(),
    ]
}

fn person_name_fields() -> Vec<FieldDef> {
    vec![
        pick("Salutation", "Salutation", SALUTATIONS),
        text("FirstName", "First Name", 40),
        text("LastName", "Last Name", 80).required(),
        text("Name", "Full Name", 121).read_only().name_field(),
    ]
}

fn build() -> Vec<ObjectDef> {
    let mut account = system_fields(true);
    account.extend([
        text("Name", "Account Name", 255).required().name_field(),
        pick(
            "Type",
            "Account Type",
            &["Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Other"],
        ),
        pick("Industry", "Industry", INDUSTRIES),
        phone("Phone", "Account Phone"),
        phone("Fax", "Account Fax"),
        FieldDef::new("Website", "Website", FieldType::Url, 255),
        area("BillingStreet", "Billing Street", 255),
        text("BillingCity", "Billing City", 40),
        text("BillingState", "Billing State/Province", 80),
        text("BillingPostalCode", "Billing Zip/Postal Code", 20),
        text("BillingCountry", "Billing Country", 80),
        number("AnnualRevenue", "Annual Revenue", FieldType::Currency),
        number("NumberOfEmployees", "Employees", FieldType::Int),
        area("Description", "Account Description", 32000),
        date("LastActivityDate", "Last Activity").read_only(),
    ]);

    let mut contact = system_fields(true);
    contact.extend(person_name_fields());
    contact.extend([
        lookup("AccountId", "Account ID", &["Account"], "Account"),
        text("Title", "Title", 128),
        text("Department", "Department", 80),
        email("Email", "Email"),
        phone("Phone", "Business Phone"),
        phone("MobilePhone", "Mobile Phone"),
        phone("HomePhone", "Home Phone"),
        phone("OtherPhone", "Other Phone"),
        phone("AssistantPhone", "Asst. Phone"),
        text("AssistantName", "Assistant's Name", 40),
        area("MailingStreet", "Mailing Street", 255),
        text("MailingCity", "Mailing City", 40),
        text("MailingState", "Mailing State/Province", 80),
        text("MailingPostalCode", "Mailing Zip/Postal Code", 20),
        text("MailingCountry", "Mailing Country", 80),
        pick("LeadSource", "Lead Source", LEAD_SOURCES),
        area("Description", "Contact Description", 32000),
        date("LastActivityDate", "Last Activity").read_only(),
    ]);

    let mut lead = system_fields(true);
    lead.extend(person_name_fields());
    lead.extend([
        text("Company", "Company", 255).required(),
        text("Title", "Title", 128),
        email("Email", "Email"),
        phone("Phone", "Phone"),
        phone("MobilePhone", "Mobile Phone"),
        pick("Status", "Lead Status", LEAD_STATUSES).restricted().defaulted("Open - Not Contacted"),
        pick("LeadSource", "Lead Source", LEAD_SOURCES),
        pick("Industry", "Industry", INDUSTRIES),
        pick("Rating", "Rating", &["Hot", "Warm", "Cold"]),
        area("Street", "Street", 255),
        text("City", "City", 40),
        text("State", "State/Province", 80),
        text("PostalCode", "Zip/Postal Code", 20),
        text("Country", "Country", 80),
        boolean("IsConverted", "Converted").read_only(),
        lookup("ConvertedContactId", "Converted Contact ID", &["Contact"], "ConvertedContact").read_only(),
        lookup("ConvertedAccountId", "Converted Account ID", &["Account"], "ConvertedAccount").read_only(),
        area("Description", "Description", 32000),
        date("LastActivityDate", "Last Activity").read_only(),
    ]);

    let mut opportunity = system_fields(true);
    opportunity.extend([
        text("Name", "Name", 120).required().name_field(),
        lookup("AccountId", "Account ID", &["Account"], "Account"),
        pick("StageName", "Stage", STAGES).restricted().required(),
        date("CloseDate", "Close Date").required(),
        number("Amount", "Amount", FieldType::Currency),
        number("Probability", "Probability (%)", FieldType::Percent),
        pick("Type", "Opportunity Type", &["Existing Customer - Upgrade", "Existing Customer - Renewal", "New Customer"]),
        pick("LeadSource", "Lead Source", LEAD_SOURCES),
        text("NextStep", "Next Step", 255),
        boolean("IsClosed", "Closed").read_only(),
        boolean("IsWon", "Won").read_only(),
        area("Description", "Description", 32000),
        date("LastActivityDate", "Last Activity").read_only(),
    ]);

    let mut case = system_fields(true);
    let mut case_number = text("CaseNumber", "Case Number", 30).system().name_field();
    case_number.nillable = false;
    case.extend([
        case_number,
        text("Subject", "Subject", 255),
        lookup("AccountId", "Account ID", &["Account"], "Account"),
        lookup("ContactId", "Contact ID", &["Contact"], "Contact"),
        pick("Status", "Status", CASE_STATUSES).restricted().defaulted("New"),
        pick("Priority", "Priority", &["High", "Medium", "Low"]).defaulted("Medium"),
        pick("Origin", "Case Origin", &["Phone", "Email", "Web"]),
        pick("Type", "Case Type", &["Question", "Problem", "Feature Request"]),
        boolean("IsClosed", "Closed").read_only(),
        datetime("ClosedDate", "Closed Date").read_only(),
        area("Description", "Description", 32000),
    ]);

    let mut task = system_fields(true);
    let who = lookup("WhoId", "Name ID", &["Contact", "Lead"], "Who");
    let what = lookup("WhatId", "Related To ID", &["Account", "Opportunity", "Case"], "What");
    task.extend([
        text("Subject", "Subject", 255).name_field(),
        who.clone(),
        what.clone(),
        date("ActivityDate", "Due Date Only"),
        pick("Status", "Status", TASK_STATUSES).restricted().defaulted("Not Started"),
        pick("Priority", "Priority", &["High", "Normal", "Low"]).restricted().defaulted("Normal"),
        pick("TaskSubtype", "Task Subtype", &["Task", "Email", "Call"]),
        pick("Type", "Type", &["Call", "Email", "Meeting", "Other"]),
        number("CallDurationInSeconds", "Call Duration", FieldType::Int),
        pick("CallType", "Call Type", &["Internal", "Inbound", "Outbound"]).restricted(),
        text("CallObject", "Call Object Identifier", 255),
        text("CallDisposition", "Call Result", 255),
        boolean("IsClosed", "Closed").read_only(),
        area("Description", "Comments", 32000),
    ]);

    let mut event = system_fields(true);
    event.extend([
        text("Subject", "Subject", 255).name_field(),
        who,
        what,
        datetime("StartDateTime", "Start").required(),
        datetime("EndDateTime", "End").required(),
        number("DurationInMinutes", "Duration", FieldType::Int),
        boolean("IsAllDayEvent", "All-Day Event"),
        text("Location", "Location", 255),
        pick("ShowAs", "Show Time As", &["Busy", "OutOfOffice", "Free"]).defaulted("Busy"),
        pick("Type", "Type", &["Call", "Email", "Meeting", "Other"]),
        area("Description", "Description", 32000),
    ]);

    let mut user = system_fields(false);
    let mut profile_id = lookup("ProfileId", "Profile ID", &["Profile"], "Profile");
    profile_id.nillable = false;
    user.extend([
        text("Username", "Username", 80).required(),
        text("FirstName", "First Name", 40),
        text("LastName", "Last Name", 80).required(),
        text("Name", "Full Name", 121).read_only().name_field(),
        text("Alias", "Alias", 8).required(),
        email("Email", "Email").required(),
        phone("Phone", "Phone"),
        phone("MobilePhone", "Mobile"),
        text("Extension", "Extension", 40),
        text("Title", "Title", 80),
        boolean("IsActive", "Active"),
        text("TimeZoneSidKey", "Time Zone", 40).required(),
        text("LanguageLocaleKey", "Language", 40).required(),
        profile_id,
    ]);

    let mut profile = vec![id_field()];
    profile.extend([
        text("Name", "Name", 255).required().name_field(),
        pick("UserType", "User Type", &["Standard", "PowerPartner", "CsnOnly", "Guest"]).restricted().read_only(),
        text("Description", "Description", 255),
    ]);
    profile.extend(audit_fields());

    // Sent email as Salesforce logs it (Enhanced Email): the message, and a relation per
    // person it involves. Neither has an owner; both are filled by the Send Email action.
    let mut email_message = system_fields(false);
    email_message.extend([
        text("Subject", "Subject", 3000).name_field(),
        area("TextBody", "Text Body", 131_072),
        area("HtmlBody", "HTML Body", 131_072),
        FieldDef::new("FromAddress", "From Address", FieldType::Email, 255),
        text("FromName", "From Name", 1000),
        area("ToAddress", "To Address", 4000),
        area("CcAddress", "CC Address", 4000),
        area("BccAddress", "BCC Address", 4000),
        // 0 New, 1 Read, 2 Replied, 3 Sent, 4 Forwarded, 5 Draft.
        pick("Status", "Status", EMAIL_STATUSES).restricted().required(),
        boolean("Incoming", "Is Incoming"),
        datetime("MessageDate", "Message Date"),
        lookup("RelatedToId", "Related To ID", &["Account", "Opportunity", "Case"], "RelatedTo"),
        lookup("ParentId", "Parent Case ID", &["Case"], "Parent"),
        lookup("ActivityId", "Activity ID", &["Task"], "Activity"),
    ]);

    let mut email_relation = system_fields(false);
    let mut message_id = lookup("EmailMessageId", "Email Message ID", &["EmailMessage"], "EmailMessage");
    message_id.nillable = false;
    email_relation.extend([
        message_id,
        lookup("RelationId", "Relation ID", &["Contact", "Lead", "User"], "Relation"),
        pick("RelationType", "Relation Type", &["FromAddress", "ToAddress", "CcAddress", "BccAddress", "OtherAddress"])
            .restricted()
            .required(),
        FieldDef::new("RelationAddress", "Relation Address", FieldType::Email, 255),
        text("RelationObjectType", "Relation Object Type", 40).read_only(),
    ]);

    let obj = |name: &'static str, label, label_plural, key_prefix, fields| ObjectDef {
        name,
        label,
        label_plural,
        key_prefix,
        createable: true,
        custom: false,
        searchable: name != "Task" && name != "Event",
        sharing_model: None,
        fields,
    };
    vec![
        obj("Account", "Account", "Accounts", "001", account),
        obj("Contact", "Contact", "Contacts", "003", contact),
        obj("Lead", "Lead", "Leads", "00Q", lead),
        obj("Opportunity", "Opportunity", "Opportunities", "006", opportunity),
        obj("Case", "Case", "Cases", "500", case),
        obj("Task", "Task", "Tasks", "00T", task),
        obj("Event", "Event", "Events", "00U", event),
        ObjectDef { createable: false, ..obj("User", "User", "Users", "005", user) },
        ObjectDef { createable: false, searchable: false, ..obj("Profile", "Profile", "Profiles", "00e", profile) },
        ObjectDef { searchable: false, ..obj("EmailMessage", "Email Message", "Email Messages", "02s", email_message) },
        ObjectDef {
            searchable: false,
            ..obj("EmailMessageRelation", "Email Message Relation", "Email Message Relations", "0BX", email_relation)
        },
    ]
}

fn build_all() -> Vec<ObjectDef> {
    let mut all = build();
    all.extend(crate::metadata::custom_objects());
    all
}

pub(crate) fn objects() -> &'static [ObjectDef] {
    static OBJECTS: OnceLock<Vec<ObjectDef>> = OnceLock::new();
    OBJECTS.get_or_init(build_all)
}

/// Object names are case-insensitive in paths and queries.
pub(crate) fn object(name: &str) -> Option<&'static ObjectDef> {
    objects().iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

pub(crate) fn object_for_id(id: &str) -> Option<&'static ObjectDef> {
    objects().iter().find(|o| id.starts_with(o.key_prefix))
}
