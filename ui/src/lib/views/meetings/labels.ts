import type { Provider } from "../../bindings";

/** Provider names are brands: the same in every language. */
export function providerLabel(provider: Provider): string {
  switch (provider) {
    case "jitsi":
      return "Jitsi Meet";
    case "zoom":
      return "Zoom";
    case "webex":
      return "Webex";
  }
}
