// Japanese UI text. Typed as `Messages`: a missing or extra key fails `npm run check`.
import type { Messages } from "./en";

export const ja: Messages = {
  "app.name": "Ringside",
  "app.startupFailed": "アプリの状態を読み込めませんでした：{message}",

  "header.connections": "接続状況",
  "header.phoneNotSetUp": "電話：未設定",
  "header.salesforceNotConnected": "Salesforce：未接続",

  "nav.label": "メインメニュー",
  "nav.phone": "電話",
  "nav.meetings": "会議",
  "nav.history": "履歴",
  "nav.reports": "レポート",
  "nav.settings": "設定",

  "notices.label": "お知らせ",
  "notices.dismiss": "閉じる：{message}",

  "phone.title": "電話",
  "phone.inputLabel": "電話番号またはリンク",
  "phone.inputHint": "形式は自由です。tel:・sip:・callto: のリンクも使えます。",
  "phone.keypad": "キーパッド",
  "phone.star": "アスタリスク",
  "phone.hash": "シャープ",
  "phone.backspace": "1 文字削除",
  "phone.willDial": "発信先",
  "phone.extension": "内線 {extension}",
  "phone.call": "発信",
  "phone.callUnavailable":
    "SIP アカウントを設定すると発信できるようになります。SIP アカウントは今後のバージョンで対応します。",
  "phone.linkRejected": "このリンクを開けませんでした：{reason}",
  "phone.dismissLinkRejected": "閉じる",

  "later.notAvailable": "この機能はまだ利用できません。今後のバージョンで提供します。",
  "meetings.title": "会議",
  "meetings.body":
    "表示中の取引先責任者と Zoom・Webex・Jitsi の会議をすぐに開始したり、予定を組んだりできます。会議は取引先責任者の Salesforce 行動として記録されます。",
  "history.title": "履歴",
  "history.body": "発信・着信したすべての通話を、Salesforce との同期状況とあわせて一覧表示し、名前や番号で検索できます。",
  "reports.title": "レポート",
  "reports.body": "ステータス別の会議数、結果別の通話数と通話時間を、期間で絞り込んでグラフで表示します。",

  "settings.title": "設定",
  "settings.audio": "オーディオ",
  "settings.language": "言語",
  "settings.general": "一般",
  "settings.diagnostics": "診断",
  "settings.about": "このアプリについて",

  "audio.microphone": "マイク",
  "audio.speaker": "スピーカー",
  "audio.ringer": "着信音",
  "audio.systemDefault": "システムの既定",
  "audio.isDefault": "{name}（既定）",
  "audio.notConnected": "{name}（未接続）",
  "audio.fallback": "{preferred} が接続されていません — {active} を使用しています",
  "audio.fallbackNoDevice": "{preferred} が接続されておらず、ほかに使えるデバイスもありません",
  "audio.chosenDevice": "選択したデバイス",
  "audio.refresh": "デバイスを再検出",
  "audio.loading": "オーディオデバイスを検出しています…",
  "audio.host": "オーディオシステム：{host}",

  "language.label": "表示言語",
  "language.system": "システムの既定",

  "general.regionLabel": "既定の発信地域",
  "general.regionHint": "国番号なしで入力した番号に使う 2 文字の国コード（ISO 3166）。例：JP、FR、US",
  "general.saved": "保存しました。",

  "diagnostics.body": "問題が起きたときにサポート担当者へ送る診断ファイルを作成します。",
  "diagnostics.write": "診断ファイルを作成",
  "diagnostics.writing": "作成中…",
  "diagnostics.written": "診断ファイルの保存先：",

  "about.version": "Ringside {version}",
  "about.dataDir": "データフォルダー：",
  "about.logFile": "ログファイル：",
};
