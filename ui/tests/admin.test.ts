import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { DiffLine, LayoutCheck } from "../src/lib/bindings";
import { foldDiff } from "../src/lib/views/admin/diff";
import {
  connectedStatus,
  emitCoreEvent,
  fakeCore,
  layoutDocument,
  refuse,
  salesforceStatus,
  validCheck,
  type FakeCore,
} from "./fake-core";

type Overrides = Parameters<typeof fakeCore>[0];

/** A line diff as the core makes it (longest common subsequence of lines). */
function lineDiff(published: string, edited: string): DiffLine[] {
  const a = published === "" ? [] : published.replace(/\n$/, "").split("\n");
  const b = edited === "" ? [] : edited.replace(/\n$/, "").split("\n");
  const common = a.map(() => b.map(() => 0));
  const at = (i: number, j: number) => (i < a.length && j < b.length ? common[i][j] : 0);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      common[i][j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ kind: "same", text: a[i] });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || at(i, j + 1) >= at(i + 1, j))) {
      lines.push({ kind: "added", text: b[j++] });
    } else {
      lines.push({ kind: "removed", text: a[i++] });
    }
  }
  return lines;
}

/** Checks as the core does, in brief: JSON first, then an empty name. */
function check({ text }: Record<string, unknown>): LayoutCheck {
  let doc: { name?: string };
  try {
    doc = JSON.parse(text as string);
  } catch {
    return {
      problems: [{ path: "", message: "the layout is not valid JSON: EOF while parsing an object", fix: "close every { and [" }],
      checkedWithOrg: false,
      preview: null,
    };
  }
  if (!doc.name) {
    return {
      problems: [{ path: "name", message: "the name is empty", fix: "give the layout a name reps will recognise" }],
      checkedWithOrg: true,
      preview: null,
    };
  }
  return validCheck();
}

/** The window with a user who may publish layouts, on the Admin page once its document loaded. */
async function renderAdmin(overrides: Overrides = {}): Promise<FakeCore> {
  const core = fakeCore({
    salesforce_status: () => connectedStatus(),
    can_publish_layouts: () => true,
    validate_layout: check,
    diff_layouts: ({ published, edited }) => lineDiff(published as string, edited as string),
    ...overrides,
  });
  render(App);
  await fireEvent.click(await screen.findByTestId("nav-admin"));
  await vi.waitFor(() => expect(json().value).toBe(layoutDocument()));
  return core;
}

const json = () => screen.getByTestId<HTMLTextAreaElement>("admin-json");
const edited = () => JSON.parse(json().value);
const type = (text: string) => fireEvent.input(json(), { target: { value: text } });

describe("the Admin page", () => {
  it("is not offered to a user who may not publish layouts", async () => {
    const core = fakeCore({ salesforce_status: () => connectedStatus() });
    render(App);
    await vi.waitFor(() => expect(core.callsTo("can_publish_layouts")).toHaveLength(1));
    expect(screen.getByTestId("nav-settings")).toBeInTheDocument();
    expect(screen.queryByTestId("nav-admin")).not.toBeInTheDocument();
  });

  it("is asked again when the Salesforce sign-in changes, and left when it is no longer offered", async () => {
    const core = await renderAdmin();
    expect(screen.getByTestId("view-title")).toHaveTextContent("Admin — layouts");

    await emitCoreEvent({ type: "salesforceChanged", status: connectedStatus({ apiUsage: { used: 2000, max: 15000 } }) });
    expect(core.callsTo("can_publish_layouts"), "an API usage update is not a new sign-in").toHaveLength(1);

    core.handle("can_publish_layouts", () => false);
    await emitCoreEvent({ type: "salesforceChanged", status: salesforceStatus() });
    await vi.waitFor(() => expect(screen.queryByTestId("nav-admin")).not.toBeInTheDocument());
    expect(core.callsTo("can_publish_layouts")).toHaveLength(2);
    expect(screen.getByTestId("view-title")).toHaveTextContent("Phone");
  });

  it("checks the JSON as it is typed and shows each problem with its path", async () => {
    const core = await renderAdmin();
    expect(await screen.findByTestId("admin-valid")).toHaveTextContent("Valid — checked with the org");

    await type('{ "formatVersion": 1, "name": ""');
    const problems = await screen.findByTestId("admin-problems");
    expect(within(problems).getByTestId("admin-problem-path")).toHaveTextContent("(whole document)");
    expect(problems).toHaveTextContent("not valid JSON");
    expect(problems).toHaveTextContent("Fix: close every { and [");
    expect(screen.queryByTestId("admin-valid")).not.toBeInTheDocument();
    expect(screen.getByTestId("admin-form-invalid")).toHaveTextContent("fix the JSON first");
    expect(screen.getByTestId("admin-review"), "nothing with problems is published").toBeDisabled();

    await type('{ "formatVersion": 1, "name": "" }');
    await vi.waitFor(() => expect(screen.getByTestId("admin-problem-path")).toHaveTextContent(/^name$/));
    expect(screen.getByTestId("admin-problem")).toHaveTextContent("the name is empty");
    // Typing fast is checked once, after the pause.
    const before = core.callsTo("validate_layout").length;
    await type(layoutDocument({ name: "A" }));
    await type(layoutDocument({ name: "Ab" }));
    await type(layoutDocument({ name: "Abc" }));
    expect(await screen.findByTestId("admin-valid")).toBeInTheDocument();
    expect(core.callsTo("validate_layout").slice(before)).toEqual([{ text: layoutDocument({ name: "Abc" }) }]);
  });

  it("edits the same JSON with the form", async () => {
    await renderAdmin();
    await fireEvent.input(screen.getByLabelText("Layout name"), { target: { value: "Inside sales" } });
    expect(edited().name).toBe("Inside sales");

    await fireEvent.click(screen.getByRole("button", { name: "Move Lead up" }));
    expect(edited().calls.inbound.search.map((o: { object: string }) => o.object)).toEqual(["Lead", "Contact"]);
    expect(edited().calls.outbound.search[0].object, "other call types keep theirs").toBe("Contact");

    const popFields = screen.getAllByTestId<HTMLInputElement>("admin-pop-fields")[0];
    expect(popFields.value).toBe("Company, Status");
    await fireEvent.change(popFields, { target: { value: "Company, Rating ,, Status" } });
    expect(edited().calls.inbound.search[0].popFields).toEqual(["Company", "Rating", "Status"]);

    await fireEvent.input(screen.getByTestId("admin-add-object"), { target: { value: "Patient__c" } });
    await fireEvent.click(screen.getByTestId("admin-add-object-submit"));
    expect(edited().calls.inbound.search.at(-1)).toMatchObject({ object: "Patient__c", phoneFields: ["Phone"], popFields: [] });

    await fireEvent.click(screen.getByTestId("admin-tab-outbound"));
    await fireEvent.change(screen.getByTestId("admin-pop-onMany"), { target: { value: "firstByPriority" } });
    await fireEvent.click(screen.getByTestId("admin-pop-openInSalesforce"));
    expect(edited().calls.outbound.pop).toEqual({
      on: "ring",
      onNone: "offerCreate",
      onOne: "pop",
      onMany: "firstByPriority",
      openInSalesforce: true,
    });
    expect(edited().calls.inbound.pop.onMany).toBe("chooser");

    await fireEvent.change(screen.getByTestId("admin-dispositions"), { target: { value: "Connected\n\nMeeting booked\n" } });
    await fireEvent.click(screen.getByTestId("admin-disposition-required"));
    expect(edited().callLog.dispositions).toEqual({ source: "list", values: ["Connected", "Meeting booked"] });
    expect(edited().callLog.dispositionRequired).toBe(true);

    await fireEvent.click(screen.getByTestId("admin-setting-autoSaveLogs-locked"));
    await fireEvent.click(screen.getByTestId("admin-setting-autoSaveLogs-value"));
    expect(edited().settings.autoSaveLogs).toEqual({ value: true, locked: true });
    expect(edited().settings.moreInfoTabs, "what the form does not show stays").toEqual({ value: [], locked: true });
    expect(json().value).toBe(`${JSON.stringify(edited(), null, 2)}\n`);
  });

  it("previews the pop and the call-log form a rep would get", async () => {
    await renderAdmin();
    const preview = await screen.findByTestId("admin-preview");
    await vi.waitFor(() => expect(within(preview).getAllByTestId("admin-preview-object")).toHaveLength(2));
    const [contact, lead] = within(preview).getAllByTestId("admin-preview-object");
    expect(within(contact).getByRole("heading")).toHaveTextContent("Contact");
    expect(contact).toHaveTextContent("Title");
    expect(contact).toHaveTextContent("Account");
    expect(lead).toHaveTextContent("Company");
    expect(within(preview).getByTestId("admin-preview-disposition")).toHaveTextContent("Left voicemail");
  });

  it("reviews the change against what is published for the target, and publishes it there", async () => {
    const publishedText = layoutDocument({ name: "Inside sales" });
    const core = await renderAdmin({
      pull_layout: () => ({
        origin: { recordId: "a01000000000001AAA", target: "profile:00e000000000001AAA", version: 3, modstamp: "2026-11-20T09:00:00.000Z" },
        name: "Inside sales",
        text: publishedText,
      }),
      publish_layout: () => ({
        recordId: "a01000000000001AAA",
        target: "profile:00e000000000001AAA",
        targetLabel: "profile Sales User",
        version: 4,
        created: false,
      }),
    });
    await fireEvent.change(screen.getByTestId("admin-target-kind"), { target: { value: "profile" } });
    expect(screen.getByTestId("admin-load"), "a profile needs its name").toBeDisabled();
    await fireEvent.input(screen.getByTestId("admin-target-name"), { target: { value: "Sales User" } });
    await fireEvent.click(screen.getByTestId("admin-load"));
    expect(core.callsTo("pull_layout")).toEqual([{ target: { kind: "profile", name: "Sales User" } }]);
    await vi.waitFor(() => expect(json().value).toBe(publishedText));
    expect(screen.getByTestId("admin-loaded")).toHaveTextContent("Version 3 (“Inside sales”) loaded.");

    await fireEvent.change(screen.getAllByTestId("admin-pop-fields")[1], { target: { value: "Company, Status, Rating" } });
    const review = screen.getByTestId("admin-review");
    await vi.waitFor(() => expect(review).toBeEnabled());
    await fireEvent.click(review);

    const diff = await screen.findByTestId("admin-diff");
    const added = diff.querySelectorAll('[data-kind="added"]');
    const removed = diff.querySelectorAll('[data-kind="removed"]');
    expect([...removed].map((l) => l.textContent)).toEqual(['-            "Status"']);
    expect([...added].map((l) => l.textContent)).toEqual(['+            "Status",', '+            "Rating"']);
    expect(diff.querySelectorAll('[data-kind="folded"]').length, "unchanged stretches fold").toBeGreaterThan(0);
    expect(core.callsTo("diff_layouts")).toEqual([{ published: publishedText, edited: json().value }]);

    await fireEvent.click(screen.getByTestId("admin-publish"));
    expect(core.callsTo("publish_layout")).toEqual([
      { text: json().value, target: { kind: "profile", name: "Sales User" } },
    ]);
    expect(await screen.findByTestId("admin-published")).toHaveTextContent("Published version 4 for profile Sales User.");
    expect(screen.queryByTestId("admin-diff")).not.toBeInTheDocument();
  });

  it("starts from the layout in force when nothing is published for the target, and shows why a publish failed", async () => {
    const core = await renderAdmin({
      pull_layout: refuse("invalidInput", "Nothing is published for the org default."),
      publish_layout: refuse("salesforce", "Salesforce refused the write (INSUFFICIENT_ACCESS). Publishing needs the Ringside_Layout_Admin permission set."),
    });
    await type(layoutDocument({ name: "Draft" }));
    await fireEvent.click(screen.getByTestId("admin-load"));
    await vi.waitFor(() => expect(json().value).toBe(layoutDocument()));
    expect(screen.getByTestId("admin-loaded")).toHaveTextContent("Nothing is published for the org default.");
    expect(core.callsTo("layout_document")).toHaveLength(2);

    await fireEvent.input(screen.getByLabelText("Layout name"), { target: { value: "First" } });
    await vi.waitFor(() => expect(screen.getByTestId("admin-review")).toBeEnabled());
    await fireEvent.click(screen.getByTestId("admin-review"));
    const diff = await screen.findByTestId("admin-diff");
    expect(diff.querySelectorAll('[data-kind="removed"]'), "nothing published: every line is new").toHaveLength(0);
    expect(core.callsTo("diff_layouts")[0].published).toBe("");

    await fireEvent.click(screen.getByTestId("admin-publish"));
    expect(core.callsTo("publish_layout")[0].target).toEqual({ kind: "org" });
    expect(await screen.findByTestId("admin-publish-error")).toHaveTextContent("Ringside_Layout_Admin permission set");
    expect(screen.queryByTestId("admin-published")).not.toBeInTheDocument();
  });
});

describe("the review's diff", () => {
  const same = (text: string): DiffLine => ({ kind: "same", text });
  it("keeps three unchanged lines around each change and folds the rest", () => {
    const lines = [...Array.from({ length: 10 }, (_, i) => same(`a${i}`)), { kind: "added", text: "new" }, ...Array.from({ length: 5 }, (_, i) => same(`b${i}`))];
    const rows = foldDiff(lines);
    expect(rows[0]).toEqual({ kind: "folded", count: 7, index: 0 });
    expect(rows.filter((r) => r.kind === "line").map((r) => (r.kind === "line" ? r.line.text : ""))).toEqual([
      "a7",
      "a8",
      "a9",
      "new",
      "b0",
      "b1",
      "b2",
    ]);
    expect(rows.at(-1)).toEqual({ kind: "folded", count: 2, index: 14 });
  });
});
