import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { setLanguage } from "../src/lib/i18n/index.svelte";

afterEach(() => {
  // Unmount first: components unlisten from the (mocked) event system on destroy.
  cleanup();
  clearMocks();
  // The UI language is one per document; put it back so tests stay independent.
  setLanguage("en");
});
