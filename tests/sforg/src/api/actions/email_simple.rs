//! The Send Email action (`emailSimple`). Reads each input, checks it as Salesforce does —
//! subject and body, sender, addresses, the recipient and related records, the daily
//! single-email allowance — then records the email in the outbox and, with
//! `logEmailOnSend`, logs it as an `EmailMessage` with an `EmailMessageRelation` for the
//! recipient. An input that fails a check sends nothing and writes nothing. Email
//! templates, threading tokens and line-break handling are accepted but not modelled.

use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::ids;
use crate::org::OrgState;
use crate::outbox::SentEmail;
use crate::schema::{self, ObjectDef, EMAIL_SENT};
use crate::store::Fields;
use crate::validate::plausible_email;

pub(crate) const NAME: &str = "emailSimple";

/// Objects `recipientId` may name: the people an email goes to.
const RECIPIENT_OBJECTS: [&str; 3] = ["Contact", "Lead", "User"];
/// Objects `relatedRecordId` may name: what `EmailMessage.RelatedToId` refers to.
const RELATED_OBJECTS: [&str; 3] = ["Account", "Opportunity", "Case"];
const SENDER_TYPES: [&str; 3] = ["CurrentUser", "DefaultWorkflowUser", "OrgWideEmailAddress"];

/// One input, typed but not yet checked against the org.
#[derive(Debug, Default)]
pub(crate) struct Input {
    /// `emailAddresses` (comma-separated) followed by `emailAddressesArray`.
    addresses: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    subject: Option<String>,
    body: Option<String>,
    rich_body: bool,
    log: bool,
    sender_type: Option<String>,
    sender_address: Option<String>,
    recipient_id: Option<String>,
    related_record_id: Option<String>,
    template_id: Option<String>,
}

/// Reads every input before any runs: an input of the wrong JSON shape refuses the call.
/// Inputs this org does not know are ignored, as Salesforce ignores them.
pub(crate) fn read_all(inputs: &[Map<String, Value>]) -> Result<Vec<Input>, ApiError> {
    inputs.iter().enumerate().map(|(i, obj)| read(&Reader { obj, at: format!("inputs[{i}]") })).collect()
}

fn read(r: &Reader) -> Result<Input, ApiError> {
    let mut addresses = r.text("emailAddresses")?.map(|s| split(&s)).unwrap_or_default();
    addresses.extend(r.list("emailAddressesArray")?);
    // The other documented inputs are accepted and have no effect here.
    for flag in ["useLineBreaks", "addThreadingTokenToBody", "addThreadingTokenToSubject"] {
        r.flag(flag)?;
    }
    Ok(Input {
        addresses,
        cc: r.text("ccRecipientAddressList")?.map(|s| split(&s)).unwrap_or_default(),
        bcc: r.text("bccRecipientAddressList")?.map(|s| split(&s)).unwrap_or_default(),
        subject: r.text("emailSubject")?,
        body: r.text("emailBody")?,
        rich_body: r.flag("sendRichBody")?,
        log: r.flag("logEmailOnSend")?,
        sender_type: r.text("senderType")?,
        sender_address: r.text("senderAddress")?,
        recipient_id: r.text("recipientId")?,
        related_record_id: r.text("relatedRecordId")?,
        template_id: r.text("emailTemplateId")?,
    })
}

/// Typed access to one input's values; `null` and `""` mean absent.
struct Reader<'a> {
    obj: &'a Map<String, Value>,
    at: String,
}

impl Reader<'_> {
    fn wrong(&self, key: &str, what: &str) -> ApiError {
        ApiError::json_parse(format!("{}.{key} must be {what}", self.at))
    }

    fn text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    fn list(&self, key: &str) -> Result<Vec<String>, ApiError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().map(|s| s.trim().to_string()).ok_or_else(|| self.wrong(key, "an array of strings")))
                .filter(|s| !matches!(s, Ok(s) if s.is_empty()))
                .collect(),
            Some(_) => Err(self.wrong(key, "an array of strings")),
        }
    }
}

/// A comma-delimited address list, as `emailAddresses` takes it.
fn split(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn missing(input: &str) -> FieldError {
    FieldError::new("REQUIRED_FIELD_MISSING", format!("Missing required input parameter: {input}"), vec![])
}

fn invalid_address(text: &str) -> FieldError {
    FieldError::new("INVALID_EMAIL_ADDRESS", format!("Email address is invalid: {text}"), vec![])
}

fn not_a_record(input: &str, raw: &str, allowed: &str) -> FieldError {
    FieldError::new(
        "INVALID_CROSS_REFERENCE_KEY",
        format!("invalid cross reference id: {input} must be an existing {allowed} the user can read: {raw}"),
        vec![],
    )
}

/// The person `recipientId` names.
struct Recipient {
    id: String,
    object: &'static str,
    address: String,
}

/// Sends one input's email, or says why not. Nothing is written unless it is sent.
pub(crate) fn send(st: &mut OrgState, user_id: &str, input: &Input) -> Result<(), Vec<FieldError>> {
    if input.template_id.is_none() {
        let absent: Vec<FieldError> = [("emailSubject", &input.subject), ("emailBody", &input.body)]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| missing(name))
            .collect();
        if !absent.is_empty() {
            return Err(absent);
        }
    }
    let one = |e: FieldError| vec![e];
    if let Some(template) = &input.template_id {
        // The org has no email templates, so every template id names nothing.
        return Err(one(not_a_record("emailTemplateId", template, "email template")));
    }
    let from = sender(st, user_id, input).map_err(one)?;
    if let Some(bad) = input.addresses.iter().chain(&input.cc).chain(&input.bcc).find(|a| !plausible_email(a)) {
        return Err(one(invalid_address(bad)));
    }
    let recipient = input.recipient_id.as_deref().map(|raw| recipient(st, raw)).transpose().map_err(one)?;
    let related = input.related_record_id.as_deref().map(|raw| related(st, raw)).transpose().map_err(one)?;

    let mut to: Vec<String> = Vec::new();
    for address in &input.addresses {
        push_unique(&mut to, address);
    }
    let cc = unique(&input.cc);
    let bcc = unique(&input.bcc);
    // Salesforce does not count emails to a User record against the allowance.
    let mut counted = (to.len() + cc.len() + bcc.len()) as u64;
    if let Some(r) = &recipient {
        if push_unique(&mut to, &r.address) && r.object != "User" {
            counted += 1;
        }
    }
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(one(missing("emailAddresses")));
    }
    let now = st.clock.now();
    if !st.outbox.has_room_for(counted, now) {
        let left = st.outbox.limit.saturating_sub(st.outbox.used);
        return Err(one(FieldError::new(
            "SINGLE_EMAIL_LIMIT_EXCEEDED",
            format!(
                "Failed to send email: it has {counted} recipients and today's single email limit of {} has {left} left",
                st.outbox.limit
            ),
            vec![],
        )));
    }

    let mut email = SentEmail {
        to,
        cc,
        bcc,
        from: from.address,
        subject: input.subject.clone().unwrap_or_default(),
        body: input.body.clone().unwrap_or_default(),
        rich_body: input.rich_body,
        recipient_id: recipient.as_ref().map(|r| r.id.clone()),
        related_record_id: related.as_ref().map(|(id, _)| id.clone()),
        email_message_id: None,
        at: now,
    };
    // Logged against the records named; with neither there is nothing to log it on.
    if input.log && (recipient.is_some() || related.is_some()) {
        email.email_message_id = Some(log(st, user_id, &email, &from.name, recipient.as_ref(), related.as_ref()));
    }
    st.outbox.record(email, counted);
    Ok(())
}

/// Adds an address unless it is there already (addresses compare without case).
fn push_unique(list: &mut Vec<String>, address: &str) -> bool {
    if list.iter().any(|a| a.eq_ignore_ascii_case(address)) {
        return false;
    }
    list.push(address.to_string());
    true
}

fn unique(addresses: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in addresses {
        push_unique(&mut out, a);
    }
    out
}

/// Who the email comes from.
struct Sender {
    address: String,
    name: String,
}

/// `CurrentUser` (the default) and `DefaultWorkflowUser` send as the signed-in user (the
/// org has no separate workflow user); `OrgWideEmailAddress` sends as `senderAddress`,
/// which counts as verified when it is a well-formed address.
fn sender(st: &OrgState, user_id: &str, input: &Input) -> Result<Sender, FieldError> {
    let kind = input.sender_type.as_deref().unwrap_or("CurrentUser");
    if !SENDER_TYPES.contains(&kind) {
        return Err(FieldError::new(
            "INVALID_INPUT",
            format!("senderType must be {}, not {kind}", SENDER_TYPES.join(", ")),
            vec![],
        ));
    }
    if kind == "OrgWideEmailAddress" {
        let address = input.sender_address.clone().ok_or_else(|| missing("senderAddress"))?;
        if !plausible_email(&address) {
            return Err(invalid_address(&address));
        }
        return Ok(Sender { name: address.clone(), address });
    }
    let user = st.store.get("User", user_id);
    let field = |name: &str| user.and_then(|u| u.get(name)).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Sender { address: field("Email"), name: field("Name") })
}

/// A record the user can read, of one of `allowed`, by a 15- or 18-character id.
fn readable<'a>(st: &'a OrgState, raw: &str, allowed: &[&str]) -> Option<(&'static ObjectDef, String, &'a Fields)> {
    let id = ids::normalize(raw)?;
    let (def, fields) = st.store.find(&id)?;
    (allowed.contains(&def.name) && st.accessible(def.name)).then_some((def, id, fields))
}

fn recipient(st: &OrgState, raw: &str) -> Result<Recipient, FieldError> {
    let (def, id, fields) =
        readable(st, raw, &RECIPIENT_OBJECTS).ok_or_else(|| not_a_record("recipientId", raw, "Contact, Lead or User"))?;
    let address = fields.get("Email").and_then(Value::as_str).filter(|a| !a.is_empty());
    let address = address.ok_or_else(|| invalid_address(&format!("recipient {id} has no email address")))?;
    Ok(Recipient { object: def.name, address: address.to_string(), id })
}

fn related(st: &OrgState, raw: &str) -> Result<(String, &'static ObjectDef), FieldError> {
    readable(st, raw, &RELATED_OBJECTS)
        .map(|(def, id, _)| (id, def))
        .ok_or_else(|| not_a_record("relatedRecordId", raw, "Account, Opportunity or Case"))
}

/// Logs the email as Salesforce's Enhanced Email does: a sent `EmailMessage` related to
/// the related record (its parent when that is a Case), and an `EmailMessageRelation`
/// linking the recipient record. Returns the message's id.
fn log(
    st: &mut OrgState,
    user_id: &str,
    email: &SentEmail,
    from_name: &str,
    recipient: Option<&Recipient>,
    related: Option<&(String, &'static ObjectDef)>,
) -> String {
    let addresses = |list: &[String]| if list.is_empty() { Value::Null } else { Value::String(list.join("; ")) };
    let related_id = related.map(|(id, _)| Value::String(id.clone())).unwrap_or(Value::Null);
    let parent = related.filter(|(_, def)| def.name == "Case").map(|(id, _)| Value::String(id.clone())).unwrap_or(Value::Null);
    let (text_body, html_body) = if email.rich_body {
        (Value::Null, Value::String(email.body.clone()))
    } else {
        (Value::String(email.body.clone()), Value::Null)
    };
    let message: Fields = [
        ("Subject", Value::String(email.subject.clone())),
        ("TextBody", text_body),
        ("HtmlBody", html_body),
        ("FromAddress", Value::String(email.from.clone())),
        ("FromName", Value::String(from_name.to_string())),
        ("ToAddress", addresses(&email.to)),
        ("CcAddress", addresses(&email.cc)),
        ("BccAddress", addresses(&email.bcc)),
        ("Status", Value::String(EMAIL_SENT.into())),
        ("Incoming", Value::Bool(false)),
        ("MessageDate", Value::String(crate::clock::sf_datetime(email.at))),
        ("RelatedToId", related_id),
        ("ParentId", parent),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let ctx = st.write_ctx(user_id);
    let message_def = schema::object("EmailMessage").expect("EmailMessage is part of the schema");
    let message_id = st.store.insert(message_def, message, &ctx);
    if let Some(r) = recipient {
        let relation: Fields = [
            ("EmailMessageId", Value::String(message_id.clone())),
            ("RelationId", Value::String(r.id.clone())),
            ("RelationType", Value::String("ToAddress".into())),
            ("RelationAddress", Value::String(r.address.clone())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let relation_def = schema::object("EmailMessageRelation").expect("EmailMessageRelation is part of the schema");
        st.store.insert(relation_def, relation, &ctx);
    }
    message_id
}
