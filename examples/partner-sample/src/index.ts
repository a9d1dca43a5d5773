import { parseArgs } from 'node:util';
import { createAgencyClient, runOperation, type Purpose } from '@agency-exchange/client';
import { ApplicantIncomeDocument } from './__generated__/graphql.js';

/**
 * One typed, authorised call to the exchange, as a partner agency's system makes it: mutual TLS
 * with the agency's certificate, and a request token bound to that certificate naming the
 * official, the case, the purpose and the case's subjects, minted by the client for each request.
 *
 *   node dist/index.js --cert agency.crt --key agency.key --ca ca.crt --subject 198504122384
 *
 * Prints the answer as JSON; exits 1 when the gateway withheld or refused anything.
 */
const { values } = parseArgs({
  options: {
    gateway: { type: 'string', default: 'https://localhost:4000/graphql' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    official: { type: 'string', default: 'handlaggare-17' },
    purpose: { type: 'string', default: 'CASE_HANDLING' },
    case: { type: 'string', default: 'SOC-2026-0001' },
    subject: { type: 'string' },
    year: { type: 'string', default: '2024' },
  },
});
const { cert, key, ca, subject } = values;
if (!cert || !key || !ca || !subject) {
  console.error(
    'Usage: node dist/index.js --cert <agency.crt> --key <agency.key> --ca <federation ca.crt> --subject <personnummer> [--gateway <url>] [--purpose <PURPOSE>] [--case <id>] [--year <yyyy>]',
  );
  process.exit(2);
}

const client = createAgencyClient({
  certPath: cert,
  keyPath: key,
  caPath: ca,
  gatewayUrl: values.gateway,
  official: values.official,
  // The gateway refuses a purpose it does not know (401 TOKEN_INVALID_CLAIM): passed on unchecked.
  purpose: values.purpose as Purpose,
  caseId: values.case,
  subjects: [subject],
});
try {
  const { status, data, errors } = await runOperation(client, ApplicantIncomeDocument, { applicant: subject, year: Number(values.year) });
  // Typed by codegen from the operation: reading a field the operation does not ask for fails tsc.
  const person = data?.person;
  console.log(
    JSON.stringify({
      status,
      person: person ? { personnummer: person.personnummer, givenName: person.name?.givenName ?? null, taxedIncome: person.taxedIncome ?? null } : null,
      // A refusal names the field (extensions.field); a withheld value comes with its path.
      errors: (errors ?? []).map((e) => ({ code: e.extensions?.['code'] ?? null, field: e.extensions?.['field'] ?? null, path: e.path ?? null })),
    }),
  );
  process.exitCode = errors && errors.length > 0 ? 1 : 0;
} finally {
  await client.close();
}
