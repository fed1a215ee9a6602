// The UI language and `t()`. The language is always the one the core resolved
// (`AppStatus.language`, `settingsChanged.language`); this module never reads
// the browser's locale. Reading `t()` in markup makes it re-render on switch.
import type { Language, LanguageSetting } from "../bindings";
import { en, type MessageKey, type Messages } from "./en";
import { fr } from "./fr";
import { ja } from "./ja";
import { translate, type Params } from "./translate";

export type { MessageKey, Messages };

export const dictionaries: Readonly<Record<Language, Messages>> = { en, fr, ja };

/** Language names as their speakers write them, so anyone can find their own. */
export const languageNames: Readonly<Record<Language, string>> = {
  en: "English",
  fr: "Français",
  ja: "日本語",
};

export const languageSettings: readonly LanguageSetting[] = ["system", "en", "fr", "ja"];

const locale = $state<{ language: Language }>({ language: "en" });

export function t(key: MessageKey, params?: Params): string {
  return translate(dictionaries[locale.language], en, key, params);
}

export function currentLanguage(): Language {
  return locale.language;
}

export function setLanguage(language: Language): void {
  locale.language = language;
  if (typeof document !== "undefined") document.documentElement.lang = language;
}
