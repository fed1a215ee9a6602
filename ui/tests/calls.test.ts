import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { AppStatus, CallInfo } from "../src/lib/bindings";
import { ENDED_SHOWN_MS } from "../src/lib/state/calls.svelte";
import { PARSE_DELAY_MS } from "../src/lib/state/dialer.svelte";
import { callQuality, formatDuration, qualityDetails } from "../src/lib/views/call/labels";
import {
  answered,
  appStatus,
  callInfo,
  callerMatch,
  emitCoreEvent,
  fakeCore,
  parisNumber,
  refuse,
  registered,
  type FakeCore,
  type Handler,
} from "./fake-core";

type Overrides = Parameters<typeof fakeCore>[0];

/** The window, started, with the phone registered unless the status says otherwise. */
async function renderApp(overrides: Overrides = {}, status: Partial<AppStatus> = {}): Promise<FakeCore> {
  const core = fakeCore({ app_status: () => appStatus({ registration: registered, ...status }), ...overrides });
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
  return core;
}

const changed = (call: CallInfo) => emitCoreEvent({ type: "callChanged", call });

/** An outgoing call to the Paris number, answered a while ago. */
const talkingCall = (overrides: Partial<CallInfo> = {}) =>
  callInfo({
    id: 7,
    direction: "outgoing",
    remoteName: null,
    remoteUri: "sip:+33123456789@pbx.example.com",
    state: answered(),
    answeredAt: Date.now() - 1_000,
    ...overrides,
  });

afterEach(() => {
  vi.useRealTimers();
});

describe("call timer", () => {
  it("shows mm:ss, then h:mm:ss from the first hour", () => {
    expect(formatDuration(0)).toBe("00:00");
    expect(formatDuration(999)).toBe("00:00");
    expect(formatDuration(65_000)).toBe("01:05");
    expect(formatDuration(3_599_999)).toBe("59:59");
    expect(formatDuration(3_600_000)).toBe("1:00:00");
    expect(formatDuration(3_725_000)).toBe("1:02:05");
    expect(formatDuration(36_000_000 + 61_000)).toBe("10:01:01");
    expect(formatDuration(-4_000), "a clock slightly behind the core's").toBe("00:00");
  });

  it("counts from answeredAt, once a second, and stops when the call ends", async () => {
    vi.useFakeTimers();
    const answeredAt = Date.now() - 5_000;
    await renderApp();
    await changed(talkingCall({ answeredAt }));

    await vi.waitFor(() => expect(screen.getByTestId("call-timer")).toHaveTextContent("00:05"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(screen.getByTestId("call-timer")).toHaveTextContent("01:05");

    await changed(
      talkingCall({
        answeredAt,
        state: { state: "ended", reason: "the other side hung up", code: null },
        endedAt: answeredAt + 90_000,
      }),
    );
    await vi.waitFor(() => expect(screen.getByTestId("call-timer")).toHaveTextContent("01:30"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(screen.getByTestId("call-timer"), "an ended call's time no longer runs").toHaveTextContent("01:30");
  });
});

describe("incoming call", () => {
  it("shows the caller's name and number; Answer answers that call", async () => {
    const core = await renderApp();
    await changed(callInfo({ id: 3 }));

    const card = await screen.findByTestId("incoming-call");
    expect(within(card).getByTestId("incoming-name")).toHaveTextContent("Camille Martin");
    expect(within(card).getByTestId("incoming-number")).toHaveTextContent("+33123456789");
    expect(within(card).getByRole("alert")).toHaveTextContent("Incoming call");

    await fireEvent.click(within(card).getByRole("button", { name: "Answer" }));
    expect(core.callsTo("answer_call")).toEqual([{ id: 3 }]);

    await changed(callInfo({ id: 3, state: answered(), answeredAt: Date.now() }));
    await vi.waitFor(() => expect(screen.queryByTestId("incoming-call")).not.toBeInTheDocument());
    expect(screen.getByTestId("call-state")).toHaveTextContent("Talking");
  });

  it("Decline refuses with 603, Busy with 486", async () => {
    const core = await renderApp();
    await changed(callInfo({ id: 3 }));
    await fireEvent.click(await screen.findByRole("button", { name: "Decline" }));
    expect(core.callsTo("decline_call")).toEqual([{ id: 3, busy: false }]);

    await changed(callInfo({ id: 4, remoteName: null, remoteUser: "+33987654321" }));
    const cards = await screen.findAllByTestId("incoming-call");
    const second = cards.find((c) => c.dataset.callId === "4")!;
    expect(within(second).getByTestId("incoming-name"), "no name: the number is the title").toHaveTextContent(
      "+33987654321",
    );
    await fireEvent.click(within(second).getByRole("button", { name: "Busy" }));
    expect(core.callsTo("decline_call")).toEqual([
      { id: 3, busy: false },
      { id: 4, busy: true },
    ]);
  });

  it("rings over whatever view is open, and says why it stopped ringing", async () => {
    vi.useFakeTimers();
    await renderApp();
    await fireEvent.click(screen.getByTestId("nav-history"));
    await changed(callInfo());
    expect(await screen.findByTestId("incoming-call")).toBeInTheDocument();
    expect(screen.getByTestId("view-title")).toHaveTextContent("History");

    await changed(callInfo({ state: { state: "ended", reason: "missed: the caller hung up", code: 487 } }));
    await vi.waitFor(() =>
      expect(screen.getByTestId("incoming-ended")).toHaveTextContent("Call ended: missed: the caller hung up"),
    );
    expect(screen.queryByRole("button", { name: "Answer" })).not.toBeInTheDocument();

    await vi.advanceTimersByTimeAsync(ENDED_SHOWN_MS);
    expect(screen.queryByTestId("incoming-call")).not.toBeInTheDocument();
  });

  it("shows the caller pop for that number in the card, and only there", async () => {
    await renderApp();
    await changed(callInfo());
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ dialled: "+33123456789" }) });

    const card = await screen.findByTestId("incoming-call");
    await vi.waitFor(() => expect(within(card).getByTestId("pop-record-name")).toHaveTextContent("Camille Martin"));
    expect(screen.getAllByTestId("pop"), "one pop on screen").toHaveLength(1);
  });

  it("while talking, Answer says it holds the current call", async () => {
    const core = await renderApp({}, { calls: [talkingCall()] });
    await screen.findByTestId("call-screen");
    await changed(callInfo({ id: 8, remoteName: "Hugo Petit", remoteUser: "+33611223344" }));

    const answer = await screen.findByRole("button", { name: "Answer (holds current call)" });
    await fireEvent.click(answer);
    expect(core.callsTo("answer_call")).toEqual([{ id: 8 }]);
    expect(core.callsTo("hold_call"), "the core holds the other call itself").toEqual([]);
  });

  it("shows the core's refusal in the card", async () => {
    await renderApp({ answer_call: refuse("unavailable", "The phone is not running: check Settings → Phone.") });
    await changed(callInfo());
    await fireEvent.click(await screen.findByRole("button", { name: "Answer" }));
    expect(await screen.findByTestId("incoming-problem")).toHaveTextContent("The phone is not running");
  });
});

describe("line quality", () => {
  const media = (m: Partial<CallInfo["media"]>): CallInfo["media"] => ({ ...callInfo().media, received: 100, ...m });

  it("grades loss either way, jitter and round trip", () => {
    expect(callQuality(media({ received: 0 })), "nothing measured yet").toBeNull();
    expect(callQuality(media({}))).toBe("good");
    expect(callQuality(media({ lossPermille: 20 }))).toBe("fair");
    expect(callQuality(media({ farLossPermille: 80 })), "what the far end reports of our stream counts too").toBe("poor");
    expect(callQuality(media({ jitterMs: 45 }))).toBe("fair");
    expect(callQuality(media({ rttMs: 500 }))).toBe("poor");
  });

  it("names the speaker's gaps as this computer's, apart from the network's figures", () => {
    expect(qualityDetails(media({ jitterMs: 3 }), "PCMU")).not.toMatch(/speaker gaps/);
    expect(qualityDetails(media({ jitterMs: 3, speakerGapsMs: 240 }), "PCMU")).toBe("PCMU · loss 0.0 % · jitter 3 ms · speaker gaps 240 ms (this computer)");
  });

  it("shows the indicator, the lock and the levels while talking", async () => {
    const call = talkingCall({ codec: "opus", media: media({ lossPermille: 70, jitterMs: 12, rttMs: 48, srtp: true, micLevel: 40 }) });
    await renderApp({}, { calls: [call] });
    const quality = await screen.findByTestId("call-quality");
    expect(quality).toHaveAttribute("data-quality", "poor");
    expect(within(quality).getByRole("img")).toHaveAccessibleName("Poor line: opus · loss 7.0 % · jitter 12 ms · round trip 48 ms");
    expect(screen.getByTestId("call-encrypted")).toHaveTextContent("Encrypted (SRTP)");
    expect(screen.getByTestId("call-mic-level")).toHaveAttribute("value", "40");
    await changed({ ...call, muted: true, media: media({}) });
    await vi.waitFor(() => expect(quality).toHaveAttribute("data-quality", "good"));
    expect(screen.getByTestId("call-mic-level"), "a muted microphone shows no level").toHaveAttribute("value", "0");
    expect(screen.queryByTestId("call-encrypted")).not.toBeInTheDocument();
  });
});

describe("in-call screen", () => {
  it("Mute and Hold follow the core's callChanged, not the click", async () => {
    const call = talkingCall();
    const core = await renderApp({}, { calls: [call] });
    const mute = await screen.findByTestId("call-mute");
    expect(mute).toHaveTextContent("Mute");

    await fireEvent.click(mute);
    expect(core.callsTo("mute_call")).toEqual([{ id: 7, on: true }]);
    expect(mute, "nothing changes until the core says so").toHaveTextContent("Mute");
    expect(screen.queryByTestId("call-muted")).not.toBeInTheDocument();

    await changed({ ...call, muted: true });
    await vi.waitFor(() => expect(mute).toHaveTextContent("Unmute"));
    expect(screen.getByTestId("call-muted")).toHaveTextContent("Microphone muted");
    await fireEvent.click(mute);
    expect(core.callsTo("mute_call")).toEqual([
      { id: 7, on: true },
      { id: 7, on: false },
    ]);

    const hold = screen.getByTestId("call-hold");
    expect(hold).toHaveTextContent("Hold");
    await fireEvent.click(hold);
    expect(core.callsTo("hold_call")).toEqual([{ id: 7, on: true }]);
    await changed({ ...call, muted: true, state: answered(true) });
    await vi.waitFor(() => expect(hold).toHaveTextContent("Resume"));
    expect(screen.getByTestId("call-state")).toHaveTextContent("On hold");
    await fireEvent.click(hold);
    expect(core.callsTo("hold_call")).toEqual([
      { id: 7, on: true },
      { id: 7, on: false },
    ]);

    await changed({ ...call, state: answered(false, true) });
    await vi.waitFor(() => expect(screen.getByTestId("call-state")).toHaveTextContent("Held by the other side"));
  });

  it("says why the call ended, then leaves after a few seconds", async () => {
    vi.useFakeTimers();
    const call = talkingCall();
    await renderApp({}, { calls: [call] });
    await screen.findByTestId("call-screen");

    await changed({ ...call, state: { state: "ended", reason: "the other side hung up", code: null }, endedAt: Date.now() });
    await vi.waitFor(() => expect(screen.getByTestId("call-state")).toHaveTextContent("Call ended: the other side hung up"));
    expect(screen.queryByTestId("call-hangup")).not.toBeInTheDocument();

    await vi.advanceTimersByTimeAsync(ENDED_SHOWN_MS - 100);
    expect(screen.getByTestId("call-screen")).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(100);
    expect(screen.queryByTestId("call-screen")).not.toBeInTheDocument();

    // A late callChanged for the ended call (a status read before its end) does not bring it back.
    await changed(call);
    expect(screen.queryByTestId("call-screen")).not.toBeInTheDocument();
  });

  it("a call ringing out offers Cancel, which hangs it up", async () => {
    const core = await renderApp();
    await changed(talkingCall({ state: { state: "ringing" }, answeredAt: null }));
    expect(await screen.findByTestId("call-state")).toHaveTextContent("Ringing…");
    expect(screen.queryByTestId("call-mute")).not.toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(core.callsTo("hang_up")).toEqual([{ id: 7 }]);
  });

  it("Hang up ends the call", async () => {
    const core = await renderApp({}, { calls: [talkingCall()] });
    await fireEvent.click(await screen.findByRole("button", { name: "Hang up" }));
    expect(core.callsTo("hang_up")).toEqual([{ id: 7 }]);
  });

  it("the keypad sends each key as a digit, in order", async () => {
    const core = await renderApp({}, { calls: [talkingCall()] });
    const toggle = await screen.findByTestId("call-keypad-toggle");
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await fireEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");

    const keypad = screen.getByTestId("call-keypad");
    for (const key of ["1", "star", "hash"]) await fireEvent.click(within(keypad).getByTestId(`key-${key}`));
    await vi.waitFor(() => expect(core.callsTo("send_dtmf")).toHaveLength(3));
    expect(core.callsTo("send_dtmf")).toEqual([
      { id: 7, digits: "1" },
      { id: 7, digits: "*" },
      { id: 7, digits: "#" },
    ]);
    expect(screen.getByTestId("call-digits")).toHaveTextContent("Sent: 1*#");
  });

  it("shows the core's call problems and refusals inline", async () => {
    await renderApp({ hold_call: refuse("invalidInput", "This call cannot be put on hold now.") }, { calls: [talkingCall()] });
    await emitCoreEvent({ type: "callProblem", id: 7, message: "The far end did not take the keypad digit." });
    expect(await screen.findByTestId("call-problem")).toHaveTextContent("did not take the keypad digit");

    await fireEvent.click(screen.getByTestId("call-hold"));
    await vi.waitFor(() => expect(screen.getByTestId("call-problem")).toHaveTextContent("cannot be put on hold now"));
  });

  it("blind transfer sends the target as typed and shows how it goes", async () => {
    const core = await renderApp({}, { calls: [talkingCall()] });
    await fireEvent.click(await screen.findByTestId("call-transfer-toggle"));
    expect(screen.queryByTestId("transfer-connect"), "no second call to connect to").not.toBeInTheDocument();
    const now = screen.getByRole("button", { name: "Transfer now" });
    expect(now).toBeDisabled();

    await fireEvent.input(screen.getByLabelText("Transfer to"), { target: { value: "  204 " } });
    await fireEvent.click(now);
    expect(core.callsTo("transfer_call")).toEqual([{ id: 7, target: "204" }]);
    await vi.waitFor(() => expect(screen.queryByTestId("transfer-form")).not.toBeInTheDocument());

    await emitCoreEvent({ type: "transferChanged", id: 7, progress: { state: "accepted" } });
    await vi.waitFor(() => expect(screen.getByTestId("call-transfer-progress")).toHaveTextContent("Transferring…"));
    await emitCoreEvent({ type: "transferChanged", id: 7, progress: { state: "failed", reason: "486 Busy Here" } });
    await vi.waitFor(() =>
      expect(screen.getByTestId("call-transfer-progress")).toHaveTextContent(
        "The transfer did not go through (486 Busy Here). The call goes on.",
      ),
    );
  });
});

describe("two calls", () => {
  const held = () =>
    callInfo({ id: 3, state: answered(true), answeredAt: Date.now() - 60_000, startedAt: Date.now() - 70_000 });
  const consult = () =>
    talkingCall({ id: 7, remoteUser: "204", remoteUri: "sip:204@pbx.example.com", startedAt: Date.now() - 5_000 });

  it("lists both; Swap takes the held one off hold (the core holds the other)", async () => {
    const core = await renderApp({}, { calls: [held(), consult()] });
    expect(await screen.findByTestId("call-name")).toHaveTextContent("204");

    const rows = screen.getAllByTestId("call-row");
    expect(rows.map((r) => within(r).getByTestId("call-row-state").textContent?.trim())).toEqual(["On hold", "Talking"]);
    expect(rows[1]).toHaveAttribute("aria-current", "true");

    await fireEvent.click(within(rows[0]).getByRole("button", { name: "Swap" }));
    expect(core.callsTo("hold_call")).toEqual([{ id: 3, on: false }]);

    await changed({ ...consult(), state: answered(true) });
    await changed({ ...held(), state: answered() });
    await vi.waitFor(() => expect(screen.getByTestId("call-name")).toHaveTextContent("Camille Martin"));
  });

  it("Connect the two calls joins the current call with the held one", async () => {
    const core = await renderApp({}, { calls: [held(), consult()] });
    await fireEvent.click(await screen.findByTestId("call-transfer-toggle"));
    const connect = screen.getByRole("button", { name: "Connect the two calls" });
    expect(connect).toHaveAccessibleDescription("Puts Camille Martin through to 204; you leave both calls.");

    await fireEvent.click(connect);
    expect(core.callsTo("transfer_to_call")).toEqual([{ id: 7, other: 3 }]);
  });
});

describe("dialling", () => {
  async function typeNumber(value = "01 23 45 67 89") {
    await fireEvent.input(screen.getByTestId("dial-input"), { target: { value } });
  }

  const dialled = (): Handler => () =>
    talkingCall({ id: 9, state: { state: "dialling" }, answeredAt: null, remoteUser: "+33123456789" });

  it("Call is enabled only with a number and a registered phone, and says why not", async () => {
    let registration: AppStatus["registration"] = { state: "unregistered" };
    const core = fakeCore({ app_status: () => appStatus({ registration }), parse_dial_input: () => parisNumber });
    render(App);
    await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
    const call = await screen.findByRole("button", { name: "Call" });
    await typeNumber();
    await vi.waitFor(() => expect(screen.getByTestId("dial-normalised")).toBeInTheDocument());
    expect(call).toBeDisabled();
    expect(call).toHaveAccessibleDescription(/once a SIP account is set up/);

    await emitCoreEvent({ type: "registrationChanged", state: { state: "registering" } });
    await vi.waitFor(() => expect(call).toHaveAccessibleDescription(/The phone is connecting/));
    expect(call).toBeDisabled();

    registration = { state: "failed", reason: "The registrar refused the password." };
    await emitCoreEvent({ type: "registrationChanged", state: registration });
    await vi.waitFor(() =>
      expect(call).toHaveAccessibleDescription("The phone is not connected: The registrar refused the password."),
    );
    expect(call).toBeDisabled();

    await emitCoreEvent({ type: "registrationChanged", state: registered });
    await vi.waitFor(() => expect(call).toBeEnabled());
    expect(call).not.toHaveAccessibleDescription(/.+/);
  });

  it("needs a number the core has read", async () => {
    await renderApp({ parse_dial_input: refuse("invalidNumber", "“12” is too short to be a phone number.") });
    const call = screen.getByRole("button", { name: "Call" });
    expect(call).toBeDisabled();
    expect(call).toHaveAccessibleDescription("Enter a number, extension or SIP address to call.");
    await typeNumber("12");
    await screen.findByTestId("dial-error");
    expect(call).toBeDisabled();
  });

  it("places the call with what was typed, then shows it", async () => {
    const core = await renderApp({ parse_dial_input: () => parisNumber, dial: dialled() });
    await typeNumber();
    const call = screen.getByRole("button", { name: "Call" });
    await vi.waitFor(() => expect(call).toBeEnabled());
    await fireEvent.click(call);

    expect(core.callsTo("dial")).toEqual([{ input: "01 23 45 67 89" }]);
    expect(await screen.findByTestId("call-state")).toHaveTextContent("Calling…");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeInTheDocument();
    expect(screen.queryByTestId("dial-input"), "the dialer folds away during the call").not.toBeInTheDocument();
    expect(screen.getByTestId("add-call")).toHaveAttribute("aria-expanded", "false");
  });

  it("Enter in the dial input places the call, even before the number was read", async () => {
    vi.useFakeTimers();
    const core = await renderApp({ parse_dial_input: () => parisNumber, dial: dialled() });
    await typeNumber("0123456789");
    await fireEvent.keyDown(screen.getByTestId("dial-input"), { key: "Enter" });
    expect(core.callsTo("dial")).toEqual([{ input: "0123456789" }]);
    await vi.advanceTimersByTimeAsync(PARSE_DELAY_MS);
  });

  it("Enter does nothing while the phone is not registered", async () => {
    const core = await renderApp({ parse_dial_input: () => parisNumber }, { registration: { state: "unregistered" } });
    await typeNumber();
    await fireEvent.keyDown(screen.getByTestId("dial-input"), { key: "Enter" });
    expect(core.callsTo("dial")).toEqual([]);
  });

  it("shows the core's refusal to dial", async () => {
    const core = await renderApp({
      parse_dial_input: () => parisNumber,
      dial: refuse("unavailable", "Calls need the UDP transport for now: choose UDP in Settings → Phone."),
    });
    await typeNumber();
    const call = screen.getByRole("button", { name: "Call" });
    await vi.waitFor(() => expect(call).toBeEnabled());
    await fireEvent.click(call);
    expect(await screen.findByTestId("dial-call-error")).toHaveTextContent("Calls need the UDP transport");
    expect(core.callsTo("dial")).toHaveLength(1);
    expect(screen.getByTestId<HTMLInputElement>("dial-input").value, "kept for another try").toBe("01 23 45 67 89");

    await typeNumber("01 23 45 67 80");
    expect(screen.queryByTestId("dial-call-error"), "about the number before the edit").not.toBeInTheDocument();
  });

  it("a second call is placed with one request: the core holds the talking one", async () => {
    const core = await renderApp({ parse_dial_input: () => parisNumber, dial: dialled() }, { calls: [talkingCall({ id: 3 })] });
    await fireEvent.click(await screen.findByTestId("add-call"));
    await typeNumber();
    const call = screen.getByRole("button", { name: "Call" });
    await vi.waitFor(() => expect(call).toBeEnabled());
    expect(call).toHaveAccessibleDescription("Calling puts your current call on hold.");
    await fireEvent.click(call);
    await vi.waitFor(() => expect(core.callsTo("dial")).toHaveLength(1));
    expect(core.callsTo("hold_call"), "no hold of its own: the core's dial does it").toEqual([]);
  });
});

describe("outside the Phone view", () => {
  it("keeps the current call in a bar, with the way back and Hang up", async () => {
    const core = await renderApp({}, { calls: [talkingCall()] });
    await fireEvent.click(screen.getByTestId("nav-history"));
    const bar = await screen.findByTestId("call-bar");
    expect(bar).toHaveTextContent("+33123456789");
    expect(within(bar).getByTestId("call-bar-state")).toHaveTextContent("Talking");

    await fireEvent.click(within(bar).getByRole("button", { name: "Hang up" }));
    expect(core.callsTo("hang_up")).toEqual([{ id: 7 }]);

    await fireEvent.click(within(bar).getByRole("button", { name: "Back to the call" }));
    expect(screen.getByTestId("view-title")).toHaveTextContent("Phone");
    expect(screen.queryByTestId("call-bar")).not.toBeInTheDocument();
    expect(screen.getByTestId("call-screen")).toBeInTheDocument();
  });
});

describe("do not disturb", () => {
  it("starts as the status says, switches through the core, and follows its events", async () => {
    const core = await renderApp({}, { doNotDisturb: true });
    const dnd = screen.getByRole("button", { name: "Do not disturb" });
    expect(dnd).toBe(screen.getByTestId("dnd-toggle"));
    expect(dnd).toHaveAttribute("aria-pressed", "true");

    await fireEvent.click(dnd);
    expect(core.callsTo("set_do_not_disturb")).toEqual([{ on: false }]);
    await vi.waitFor(() => expect(dnd).toHaveAttribute("aria-pressed", "false"));

    await emitCoreEvent({ type: "doNotDisturbChanged", on: true });
    await vi.waitFor(() => expect(dnd).toHaveAttribute("aria-pressed", "true"));
  });

  it("shows the core's refusal and stays as it was", async () => {
    await renderApp({ set_do_not_disturb: refuse("unavailable", "The phone is not set up: enter the SIP account in Settings → Phone.") });
    const dnd = screen.getByTestId("dnd-toggle");
    await fireEvent.click(dnd);
    expect(await screen.findByTestId("calls-error")).toHaveTextContent("The phone is not set up");
    expect(dnd).toHaveAttribute("aria-pressed", "false");
    await fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("calls-error")).not.toBeInTheDocument();
  });
});

describe("languages", () => {
  it("shows the incoming card and the call in Japanese", async () => {
    await renderApp({}, { language: "ja", calls: [talkingCall()] });
    await changed(callInfo({ id: 8 }));
    expect(await screen.findByRole("button", { name: "応答（現在の通話を保留）" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "拒否" })).toBeInTheDocument();
    expect(screen.getByTestId("call-state")).toHaveTextContent("通話中");
    expect(screen.getByRole("button", { name: "応答不可" })).toHaveAttribute("aria-pressed", "false");
  });
});
