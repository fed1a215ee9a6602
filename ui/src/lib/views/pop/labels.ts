// Display names for the Salesforce API names a pop shows. Only the common
// standard objects and fields are translated; anything else (a custom field,
// another object) shows its API name, which is what the admin configured.
import { t, type MessageKey } from "../../i18n/index.svelte";

const objectKeys: Readonly<Record<string, MessageKey>> = {
  Contact: "object.Contact",
  Lead: "object.Lead",
  Account: "object.Account",
  Opportunity: "object.Opportunity",
  Case: "object.Case",
};

const fieldKeys: Readonly<Record<string, MessageKey>> = {
  Title: "field.title",
  "Account.Name": "field.account",
  "Owner.Name": "field.owner",
  Company: "field.company",
  Email: "field.email",
  Status: "field.status",
  Country: "field.country",
  MailingCountry: "field.country",
  BillingCountry: "field.country",
  Industry: "field.industry",
  LastActivityDate: "field.lastActivity",
  Phone: "field.phone",
  MobilePhone: "field.mobilePhone",
  HomePhone: "field.homePhone",
  OtherPhone: "field.otherPhone",
  AssistantPhone: "field.assistantPhone",
  Fax: "field.fax",
};

// Own keys only: an API name such as "constructor" must not reach Object.prototype.
const lookup = (keys: Readonly<Record<string, MessageKey>>, name: string): string =>
  Object.hasOwn(keys, name) ? t(keys[name]) : name;

export const objectLabel = (object: string): string => lookup(objectKeys, object);

export const fieldLabel = (field: string): string => lookup(fieldKeys, field);

/**
 * A column heading for a field a "more info" tab lists: its API name made readable,
 * untranslated like the values under it (`StageName` → "Stage Name", `Account.Name`
 * → "Account Name", `Renewal_Date__c` → "Renewal Date").
 */
export const columnLabel = (field: string): string =>
  field
    .split(".")
    .map((part) =>
      part
        .replace(/__(c|r|pc)$/i, "")
        .replace(/_+/g, " ")
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2"),
    )
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
