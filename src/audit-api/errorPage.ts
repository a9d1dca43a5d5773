import type { IncomingMessage } from 'node:http';
import type { GatewayError } from '../errors/index.js';

/**
 * The page a person sees when the browser opens /audit (or a form the console posts into a new
 * tab) and the gateway refuses: what is wrong in plain words, what to do, and the code and
 * request id to quote to support. Programs keep getting the coded JSON error.
 */

export type PageLanguage = 'sv' | 'en';

interface Explanation {
  readonly title: string;
  readonly what: string;
  readonly todo: string;
}

type Texts = Readonly<Record<PageLanguage, Explanation>>;

const CERTIFICATE_PROBLEM: Texts = {
  sv: {
    title: 'Certifikatet kan inte användas',
    what: 'Webbläsaren skickade ett certifikat som gatewayen inte godtar (utfärdat av okänd utfärdare, spärrat, utgånget eller inte giltigt ännu, eller inte avsett för inloggning).',
    todo: 'Välj ditt personliga certifikat (tjänstelegitimation) när webbläsaren frågar. Stäng webbläsaren helt och öppna sidan igen om den kom ihåg ett annat certifikat. Kontakta den som utfärdar era tjänstekort om certifikatet har gått ut eller spärrats.',
  },
  en: {
    title: 'The certificate cannot be used',
    what: 'The browser sent a certificate the gateway does not accept (unknown issuer, revoked, expired or not yet valid, or not meant for signing in).',
    todo: 'Pick your personal certificate (service credential) when the browser asks. Quit the browser completely and open the page again if it remembered another certificate. Ask whoever issues your service cards if the certificate has expired or been revoked.',
  },
};

const SESSION_ENDED: Texts = {
  sv: {
    title: 'Sessionen har upphört',
    what: 'Sidan öppnades med en granskningssession som har gått ut eller inte gäller för ditt certifikat.',
    todo: 'Gå tillbaka till granskningskonsolen (den förnyar sessionen själv) och försök igen.',
  },
  en: {
    title: 'The session has ended',
    what: 'The page was opened with an audit session that has expired or does not belong to your certificate.',
    todo: 'Go back to the audit console (it renews the session by itself) and try again.',
  },
};

const TEXTS: Readonly<Record<string, Texts>> = {
  TOKEN_MISSING: SESSION_ENDED,
  TOKEN_EXPIRED: SESSION_ENDED,
  TOKEN_NOT_BOUND: SESSION_ENDED,
  TOKEN_INVALID: SESSION_ENDED,
  TOKEN_SIGNATURE_INVALID: SESSION_ENDED,
  BAD_USER_INPUT: {
    sv: {
      title: 'Uppgiften kan inte användas',
      what: 'Något i formuläret är inte giltigt, till exempel ett personnummer med fel kontrollsiffra.',
      todo: 'Gå tillbaka, rätta uppgiften och försök igen.',
    },
    en: {
      title: 'The input cannot be used',
      what: 'Something in the form is not valid, for example an identity number with a wrong check digit.',
      todo: 'Go back, correct it and try again.',
    },
  },
  CLIENT_CERTIFICATE_REQUIRED: {
    sv: {
      title: 'Inget certifikat',
      what: 'Webbläsaren skickade inget certifikat. Granskningen av åtkomstloggen kräver att du legitimerar dig med ditt personliga certifikat.',
      todo: 'Sätt i ditt tjänstekort (eller importera ditt personliga certifikat, en .p12-fil, i webbläsaren) och ladda om sidan. Välj certifikatet när webbläsaren frågar.',
    },
    en: {
      title: 'No certificate',
      what: 'The browser sent no certificate. Auditing the access log requires you to sign in with your personal certificate.',
      todo: 'Insert your service card (or import your personal certificate, a .p12 file, into the browser) and reload the page. Pick the certificate when the browser asks.',
    },
  },
  CLIENT_CERTIFICATE_UNTRUSTED: CERTIFICATE_PROBLEM,
  CLIENT_CERTIFICATE_EXPIRED: CERTIFICATE_PROBLEM,
  CLIENT_CERTIFICATE_NOT_YET_VALID: CERTIFICATE_PROBLEM,
  CLIENT_CERTIFICATE_REVOKED: CERTIFICATE_PROBLEM,
  CLIENT_CERTIFICATE_WRONG_USAGE: CERTIFICATE_PROBLEM,
  CLIENT_CERTIFICATE_INVALID: CERTIFICATE_PROBLEM,
  AGENCY_NOT_REGISTERED: {
    sv: {
      title: 'Organisationen är inte ansluten',
      what: 'Certifikatet är giltigt, men organisationen det är utfärdat för finns inte i federationens register över anslutna myndigheter.',
      todo: 'Kontakta federationens förvaltning om din organisation ska vara ansluten.',
    },
    en: {
      title: 'The organisation is not a member',
      what: "The certificate is valid, but the organisation it was issued to is not in the federation's register of member agencies.",
      todo: "Contact the federation's administration if your organisation should be a member.",
    },
  },
  AGENCY_SUSPENDED: {
    sv: {
      title: 'Myndigheten är avstängd',
      what: 'Din myndighet är för närvarande avstängd från informationsutbytet. Så länge avstängningen gäller kan ingen från myndigheten använda gatewayen, inte heller granskningen.',
      todo: 'Kontakta federationens förvaltning. Tillsynsmyndigheten (IMY) kan fortfarande granska loggen.',
    },
    en: {
      title: 'The agency is suspended',
      what: 'Your agency is currently suspended from the data exchange. While the suspension lasts nobody from the agency can use the gateway, auditing included.',
      todo: "Contact the federation's administration. The supervisory authority (IMY) can still audit the log.",
    },
  },
  PERSONAL_CERTIFICATE_REQUIRED: {
    sv: {
      title: 'Personligt certifikat krävs',
      what: 'Webbläsaren skickade myndighetens systemcertifikat. Det visar vilken myndighet som anropar men inte vem du är, och varje system hos myndigheten har det. Åtkomstloggen innehåller personnummer och visas bara för namngivna dataskyddsombud och tillsynsmyndigheten.',
      todo: 'Använd ditt personliga certifikat (tjänstelegitimation, t.ex. SITHS- eller Efos-kort). Ta bort systemcertifikatet ur webbläsaren, stäng den helt och öppna sidan igen.',
    },
    en: {
      title: 'Personal certificate required',
      what: "The browser sent the agency's system certificate. It shows which agency is calling but not who you are, and every system of the agency holds it. The access log contains personal identity numbers and is shown only to named data protection officers and the supervisory authority.",
      todo: 'Use your personal certificate (service credential, e.g. a SITHS or Efos card). Remove the system certificate from the browser, quit it completely and open the page again.',
    },
  },
  OFFICIAL_NOT_REGISTERED: {
    sv: {
      title: 'Du finns inte i registret',
      what: 'Ditt personliga certifikat är giltigt, men det finns ingen tjänsteperson med certifikatets HSA-id i federationens register över dataskyddsombud, tillsynspersoner och driftpersonal.',
      todo: 'Be din myndighets ansvariga för dataskydd att anmäla dig (HSA-id, roll) till federationens register.',
    },
    en: {
      title: 'You are not registered',
      what: "Your personal certificate is valid, but no official with the certificate's HSA-id is in the federation's register of data protection officers, inspectors and operators.",
      todo: "Ask your agency's data protection lead to register you (HSA-id, role) with the federation.",
    },
  },
  ROLE_NOT_ALLOWED: {
    sv: {
      title: 'Behörighet saknas',
      what: 'Du är registrerad, men inte i en roll som får granska åtkomstloggen (dataskyddsombud eller tillsynsmyndighet), eller så har din myndighet inte den rollen i federationens register.',
      todo: 'Kontakta federationens förvaltning om du ska ha behörighet.',
    },
    en: {
      title: 'Not authorised',
      what: 'You are registered, but not in a role that may audit the access log (data protection officer or supervisory authority), or your agency does not hold that role in the federation register.',
      todo: "Contact the federation's administration if you should have access.",
    },
  },
  REVOCATION_STATUS_UNAVAILABLE: {
    sv: {
      title: 'Spärrkontrollen fungerar inte just nu',
      what: 'Gatewayen kan för tillfället inte kontrollera om certifikat är spärrade, och släpper därför inte in någon.',
      todo: 'Försök igen om en stund. Felet ligger hos gatewayen, inte hos dig.',
    },
    en: {
      title: 'Revocation checking is unavailable',
      what: 'The gateway cannot check right now whether certificates are revoked, so it lets nobody in.',
      todo: 'Try again in a while. The fault is with the gateway, not with you.',
    },
  },
};

const FALLBACK: Texts = {
  sv: { title: 'Sidan kan inte visas', what: 'Gatewayen avvisade begäran.', todo: 'Försök igen. Ange felkoden och begärans id om du kontaktar support.' },
  en: { title: 'The page cannot be shown', what: 'The gateway refused the request.', todo: 'Try again. Quote the error code and request id if you contact support.' },
};

const LABELS = {
  sv: { heading: 'Granskning av åtkomstloggen', todo: 'Vad du kan göra', code: 'Felkod', request: 'Begärans id', other: 'In English' },
  en: { heading: 'Access log audit', todo: 'What you can do', code: 'Error code', request: 'Request id', other: 'På svenska' },
} as const;

/** Whether the request is a browser navigation (a page, not a program's fetch), which gets a page rather than JSON. */
export function wantsPage(request: IncomingMessage): boolean {
  const mode = request.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  return (request.method ?? 'GET').toUpperCase() === 'GET' && /\btext\/html\b/.test(request.headers.accept ?? '');
}

/** `?lang=en` or `?lang=sv` first, then Accept-Language; Swedish when neither says. */
export function pageLanguage(request: IncomingMessage): PageLanguage {
  const asked = new URL(request.url ?? '/', 'https://gateway.invalid').searchParams.get('lang');
  if (asked === 'en' || asked === 'sv') return asked;
  for (const part of (request.headers['accept-language'] ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (tag === 'sv' || tag === 'en') return tag;
  }
  return 'sv';
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderErrorPage(error: GatewayError, requestId: string, language: PageLanguage): string {
  const text = (TEXTS[error.code] ?? FALLBACK)[language];
  const labels = LABELS[language];
  const other: PageLanguage = language === 'sv' ? 'en' : 'sv';
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(text.title)} – ${escapeHtml(labels.heading)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/audit/console.css">
</head>
<body class="refusal">
<main class="refusal-card" data-code="${escapeHtml(error.code)}">
<p class="muted">${escapeHtml(labels.heading)} · <a href="/audit?lang=${other}" lang="${other}">${escapeHtml(labels.other)}</a></p>
<h1>${escapeHtml(text.title)}</h1>
<p>${escapeHtml(text.what)}</p>
<h2>${escapeHtml(labels.todo)}</h2>
<p>${escapeHtml(text.todo)}</p>
<dl class="refusal-meta">
<dt>${escapeHtml(labels.code)}</dt><dd><code>${escapeHtml(error.code)}</code></dd>
<dt>${escapeHtml(labels.request)}</dt><dd><code>${escapeHtml(requestId)}</code></dd>
</dl>
</main>
</body>
</html>
`;
}
