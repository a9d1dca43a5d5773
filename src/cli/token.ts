import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mintRequestToken } from '../client/index.js';
import { DEFAULT_TOKEN_AUDIENCE, MAX_TOKEN_LIFETIME_SECONDS } from '../identity/requestToken.js';
import { PURPOSES } from '../policy/purposes.js';
import { AGENCY_CALL_USAGE, agencyCall, agencyCertificateFiles, parseCommandLine } from './agencyCallOptions.js';
import { reportCommandFailure, UsageError } from './commandFailure.js';

const FORMATS = ['token', 'header', 'json'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `Usage:
  npm run -s token -- ${AGENCY_CALL_USAGE}
                   [--lifetime SECONDS] [--audience AUD] [--format token|header|json]

Prints one request token for the agency, signed with its development certificate's key from
certs/dev and bound to that certificate: the token curl or the development IDE sends in
\`authorization: Bearer …\`. The gateway accepts each token once (its id is remembered until it
expires) and for at most ${MAX_TOKEN_LIFETIME_SECONDS} s; mint one per request.

  --format token    the token alone (default): TOKEN=$(npm run -s token -- ...)
  --format header   authorization: Bearer <token>
  --format json     {"authorization":"Bearer <token>"}, for the IDE's Headers pane
Purposes: ${PURPOSES.join(', ')}.`;

export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleOutput: CommandOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

function lifetime(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new UsageError(`--lifetime: expected whole seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS} (the gateway refuses longer), got "${raw}".`);
  }
  return seconds;
}

function format(raw: string | undefined): Format {
  if (raw === undefined) return 'token';
  if (!(FORMATS as readonly string[]).includes(raw)) throw new UsageError(`--format: "${raw}" is not one of ${FORMATS.join(', ')}.`);
  return raw as Format;
}

/** Returns the exit code: 0 printed, 1 could not sign, 2 called wrongly. */
export async function runTokenCommand(argv: readonly string[], output: CommandOutput = consoleOutput): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(argv, { lifetime: { type: 'string' }, audience: { type: 'string' }, format: { type: 'string' } });
    if (values.help) {
      output.out(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    const call = agencyCall(values);
    const lifetimeSeconds = lifetime(values.lifetime);
    const shape = format(values.format);
    const files = agencyCertificateFiles(call);
    const token = await mintRequestToken({
      certificate: readFileSync(files.certificate, 'utf8'),
      privateKey: readFileSync(files.key, 'utf8'),
      official: call.official,
      purpose: call.purpose,
      caseId: call.caseId,
      subjects: call.subjects,
      audience: values.audience ?? DEFAULT_TOKEN_AUDIENCE,
      ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
    });
    output.out(shape === 'token' ? token : shape === 'header' ? `authorization: Bearer ${token}` : JSON.stringify({ authorization: `Bearer ${token}` }));
    return 0;
  } catch (error) {
    return reportCommandFailure('token', USAGE, error, output.err);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runTokenCommand(process.argv.slice(2));
}
