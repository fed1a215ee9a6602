import { describe, expect, it } from "vitest";
import { en } from "../src/lib/i18n/en";
import { fr } from "../src/lib/i18n/fr";
import { ja } from "../src/lib/i18n/ja";
import { currentLanguage, dictionaries, setLanguage, t } from "../src/lib/i18n/index.svelte";
import { interpolate, translate } from "../src/lib/i18n/translate";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("dictionaries", () => {
  const translations = { fr, ja } as const;

  for (const [language, messages] of Object.entries(translations)) {
    it(`${language} defines exactly the keys of en`, () => {
      expect(Object.keys(messages).sort(), `${language} must translate every English key and add none`).toEqual(
        Object.keys(en).sort(),
      );
    });

    it(`${language} keeps every placeholder of the English text`, () => {
      for (const [key, english] of Object.entries(en)) {
        const translated = (messages as Record<string, string>)[key];
        expect(placeholders(translated), `${language} "${key}" must interpolate the same values as English`).toEqual(
          placeholders(english),
        );
      }
    });

    it(`${language} has no empty text`, () => {
      const empty = Object.entries(messages).filter(([, text]) => text.trim() === "");
      expect(empty, `${language} must not show blank labels`).toEqual([]);
    });
  }

  it("navigation is really translated, not copied from English", () => {
    expect([fr["nav.phone"], fr["nav.settings"]]).toEqual(["Téléphone", "Paramètres"]);
    expect([ja["nav.phone"], ja["nav.meetings"], ja["nav.history"], ja["nav.reports"], ja["nav.settings"]]).toEqual([
      "電話",
      "会議",
      "履歴",
      "レポート",
      "設定",
    ]);
  });
});

describe("translate", () => {
  it("fills every named placeholder", () => {
    expect(interpolate("{a} is not connected — using {b}", { a: "Jabra", b: "Speakers" })).toBe(
      "Jabra is not connected — using Speakers",
    );
  });

  it("leaves a placeholder without a value visible instead of printing undefined", () => {
    expect(interpolate("ext. {extension}", {})).toBe("ext. {extension}");
  });

  it("falls back to English when a language lacks a key", () => {
    expect(translate<"a" | "b">({ a: "A en français" }, { a: "A", b: "B in English" }, "b")).toBe("B in English");
  });

  it("falls back to the key itself when no dictionary has it", () => {
    expect(translate<string>({}, {}, "missing.key")).toBe("missing.key");
  });
});

describe("t()", () => {
  it("follows the language set from the core and updates <html lang>", () => {
    setLanguage("fr");
    expect(currentLanguage()).toBe("fr");
    expect(t("audio.isDefault", { name: "Casque" })).toBe(fr["audio.isDefault"].replace("{name}", "Casque"));
    expect(document.documentElement.lang).toBe("fr");

    setLanguage("ja");
    expect(t("nav.settings")).toBe("設定");
    expect(document.documentElement.lang).toBe("ja");
  });

  it("offers a dictionary for every language the core can resolve", () => {
    expect(Object.keys(dictionaries).sort()).toEqual(["en", "fr", "ja"]);
  });
});
