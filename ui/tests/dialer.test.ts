import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import PhoneView from "../src/lib/views/PhoneView.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import { PARSE_DELAY_MS } from "../src/lib/state/dialer.svelte";
import { fakeCore, parisNumber, refuse, type FakeCore } from "./fake-core";

function renderPhone() {
  const app = new AppState();
  render(PhoneView, { context: appStateContext(app) });
  return app;
}

const input = () => screen.getByTestId<HTMLInputElement>("dial-input");

async function press(...keys: string[]) {
  for (const key of keys) await fireEvent.click(screen.getByTestId(`key-${key}`));
}

describe("dialer", () => {
  let core: FakeCore;

  beforeEach(() => {
    vi.useFakeTimers();
    core = fakeCore({ parse_dial_input: () => parisNumber });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("appends each keypad key to the number, star and hash included", async () => {
    renderPhone();
    await press("0", "1", "star", "9", "hash");
    expect(input().value).toBe("01*9#");
  });

  it("backspace removes the last character only", async () => {
    renderPhone();
    await press("4", "2");
    await fireEvent.click(screen.getByTestId("dial-backspace"));
    expect(input().value).toBe("4");
  });

  it("asks the core once, after typing pauses, with the whole input", async () => {
    renderPhone();
    await press("0", "1", "2");
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS - 1);
    expect(core.callsTo("parse_dial_input"), "no parse while the rep is still typing").toEqual([]);

    await vi.advanceTimersByTimeAsync(1);
    expect(core.callsTo("parse_dial_input")).toEqual([{ input: "012" }]);
  });

  it("shows the core's normalised number and country for pasted text", async () => {
    renderPhone();
    await fireEvent.input(input(), { target: { value: "01 23 45 67 89" } });
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);

    await vi.waitFor(() => expect(screen.getByTestId("dial-normalised")).toHaveTextContent("+33123456789"));
    expect(screen.getByTestId("dial-normalised")).toHaveTextContent("France");
    expect(core.callsTo("parse_dial_input")).toEqual([{ input: "01 23 45 67 89" }]);
  });

  it("Look up waits until the number now typed has been read, never using the previous one", async () => {
    renderPhone();
    await fireEvent.input(input(), { target: { value: "01 23 45 67 89" } });
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);
    await vi.waitFor(() => expect(screen.getByTestId("dial-lookup")).toBeEnabled());

    await fireEvent.input(input(), { target: { value: "+1 415 555 1212" } });
    expect(screen.getByTestId("dial-lookup"), "the shown result is for the previous number").toBeDisabled();
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);
    await vi.waitFor(() => expect(screen.getByTestId("dial-lookup")).toBeEnabled());
  });

  it("shows the core's own error sentence when it refuses the input", async () => {
    core.handle("parse_dial_input", refuse("invalidNumber", "“12” is too short to be a phone number."));
    renderPhone();
    await press("1", "2");
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);

    await vi.waitFor(() =>
      expect(screen.getByTestId("dial-error")).toHaveTextContent("“12” is too short to be a phone number."),
    );
    expect(screen.queryByTestId("dial-normalised")).not.toBeInTheDocument();
    expect(input()).toHaveAttribute("aria-invalid", "true");
  });

  it("ignores a late answer for input the rep has since changed", async () => {
    let answerFirst: (value: unknown) => void = () => {};
    core.handle("parse_dial_input", ({ input }) =>
      input === "1" ? new Promise((resolve) => (answerFirst = resolve)) : { ...parisNumber, e164: "+3312" },
    );
    renderPhone();
    await press("1");
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);
    await press("2");
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);
    await vi.waitFor(() => expect(screen.getByTestId("dial-normalised")).toHaveTextContent("+3312"));

    answerFirst({ ...parisNumber, e164: "+331" });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId("dial-normalised"), "the answer for the newer input must stay").toHaveTextContent(
      "+3312",
    );
  });

  it("keeps the Call button disabled until a phone is set up, and says why", () => {
    renderPhone();
    const call = screen.getByRole("button", { name: "Call" });
    expect(call).toBeDisabled();
    expect(call).toHaveAccessibleDescription(/once a SIP account is set up/);
  });
});
