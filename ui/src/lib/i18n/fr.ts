// French UI text. Typed as `Messages`: a missing or extra key fails `npm run check`.
import type { Messages } from "./en";

export const fr: Messages = {
  "app.name": "Ringside",
  "app.startupFailed": "Ringside n’a pas pu charger son état depuis le cœur de l’application : {message}",

  "header.connections": "Connexions",
  "header.phoneNotSetUp": "Téléphone : non configuré",
  "header.salesforceNotConnected": "Salesforce : non connecté",

  "nav.label": "Navigation principale",
  "nav.phone": "Téléphone",
  "nav.meetings": "Réunions",
  "nav.history": "Historique",
  "nav.reports": "Rapports",
  "nav.settings": "Paramètres",

  "notices.label": "Avertissements",
  "notices.dismiss": "Masquer : {message}",

  "phone.title": "Téléphone",
  "phone.inputLabel": "Numéro ou lien",
  "phone.inputHint": "Tout format accepté, ainsi que les liens tel:, sip: et callto:.",
  "phone.keypad": "Clavier",
  "phone.star": "Étoile",
  "phone.hash": "Dièse",
  "phone.backspace": "Effacer le dernier caractère",
  "phone.willDial": "Numéro composé",
  "phone.extension": "poste {extension}",
  "phone.call": "Appeler",
  "phone.callUnavailable":
    "Les appels seront possibles dès qu’un compte SIP sera configuré. Les comptes SIP arrivent dans une prochaine version de Ringside.",
  "phone.linkRejected": "Impossible d’ouvrir ce lien : {reason}",
  "phone.dismissLinkRejected": "Masquer",

  "later.notAvailable": "Pas encore disponible. Cette fonction arrive dans une prochaine version de Ringside.",
  "meetings.title": "Réunions",
  "meetings.body":
    "Lancez une réunion Zoom, Webex ou Jitsi instantanée avec le contact affiché, ou planifiez-en une. Chaque réunion est enregistrée comme Événement Salesforce sur le contact.",
  "history.title": "Historique",
  "history.body":
    "Tous vos appels passés et reçus, avec l’état de leur synchronisation Salesforce, consultables par nom ou par numéro.",
  "reports.title": "Rapports",
  "reports.body":
    "Des graphiques de vos réunions par statut et de vos appels par résultat et durée de conversation, filtrés par période.",

  "settings.title": "Paramètres",
  "settings.audio": "Audio",
  "settings.language": "Langue",
  "settings.general": "Général",
  "settings.diagnostics": "Diagnostic",
  "settings.about": "À propos",

  "audio.microphone": "Microphone",
  "audio.speaker": "Haut-parleur",
  "audio.ringer": "Sonnerie",
  "audio.systemDefault": "Périphérique par défaut du système",
  "audio.isDefault": "{name} (par défaut)",
  "audio.notConnected": "{name} (non connecté)",
  "audio.fallback": "{preferred} n’est pas connecté — utilisation de {active}",
  "audio.fallbackNoDevice": "{preferred} n’est pas connecté et aucun autre périphérique n’est disponible",
  "audio.chosenDevice": "Le périphérique choisi",
  "audio.refresh": "Actualiser les périphériques",
  "audio.loading": "Recherche des périphériques audio…",
  "audio.host": "Système audio : {host}",

  "language.label": "Langue d’affichage",
  "language.system": "Langue du système",

  "general.regionLabel": "Région de numérotation par défaut",
  "general.regionHint":
    "Code pays à deux lettres (ISO 3166) utilisé pour les numéros saisis sans indicatif, par exemple FR, JP ou US.",
  "general.saved": "Enregistré.",

  "diagnostics.body": "Créez un dossier de diagnostic à envoyer à votre support en cas de problème.",
  "diagnostics.write": "Créer le dossier de diagnostic",
  "diagnostics.writing": "Création…",
  "diagnostics.written": "Dossier de diagnostic enregistré dans :",

  "about.version": "Ringside {version}",
  "about.dataDir": "Dossier des données :",
  "about.logFile": "Fichier journal :",
};
