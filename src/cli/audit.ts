import { parseArgs } from 'node:util';
import { ConfigError } from '../config/parseEnv.js';
import { loadAccessLogConfig } from '../config/accessLogConfig.js';
import { loadSigningKey, openAccessLogStore } from '../audit/openAccessLog.js';
import { readAuditKeys } from '../identity/pki/auditKeys.js';
import { readGatewayPublicJwk } from '../identity/pki/gatewaySigningKey.js';
import { verifyAccessLog, verifyTree } from '../audit/verify.js';
import { executePurge, planPurge } from '../audit/retention.js';
import { subjectHmac } from '../audit/subjectProtection.js';
import { parsePersonnummer, InvalidPersonnummerError } from '../personnummer/index.js';
import type { AccessLogStore } from '../audit/store/AccessLogStore.js';
import { UsageError } from './commandFailure.js';
import { readFileSync } from 'node:fs';
import { verifyCitizenReport } from '../audit/verifyReport.js';
import { loadLogNoteSigner, loadLogVerifier, loadTransparencyConfig, readVerifierKeys } from '../config/transparencyConfig.js';
import { migrateToRecords } from '../audit/migrateFormat.js';
import type { PartitionEvent } from '../audit/store/postgresPartitions.js';

const USAGE = `Usage: npm run audit -- <command>

  verify                          verify every chain and its Merkle tree; exit 1 naming the first broken entry
  migrate                         move chains of the row-per-entry format into records, each verified
                                  in its old format first; exit 1 if any chain was refused. On PostgreSQL,
                                  records not yet partitioned by month move into month partitions first
  purge [--dry-run]               remove entries past retention, whole checkpoint segments only
                                  (on PostgreSQL a month every chain's purge empties is dropped whole)
  hold add --case ID [--reason T] keep a case's entries out of every purge
  hold add --subject PNR [--reason T]
  hold list
  verify-report FILE --log-key VKEY --witness-key VKEY... [--quorum N] [--previous FILE]
                                  check a citizen's report offline: exit 0 verified, 1 refused
                                  with its code; keys as vkeys or files of vkeys, quorum
                                  default: every witness key given

Environment: DATA_DIR, DATABASE_URL, AUDIT_PG_SCHEMA, AUDIT_KEYS_PATH, GATEWAY_SIGNING_KEY_PATH, AUDIT_RETENTION_DAYS.`;

/** Runs one command; returns the exit code. Output goes to the given writers so tests can run it in-process. */
export async function runAuditCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (line: string) => void = (line) => console.log(line),
  err: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  let store: AccessLogStore | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        case: { type: 'string' },
        subject: { type: 'string' },
        reason: { type: 'string' },
        'log-key': { type: 'string' },
        'witness-key': { type: 'string', multiple: true },
        quorum: { type: 'string' },
        previous: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [command, sub] = positionals;
    if (values.help || command === undefined) {
      out(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    // Offline: nothing from the environment, no store; only the report and the keys given.
    if (command === 'verify-report') return verifyReportCommand(sub, values, out, err);

    const config = loadAccessLogConfig(env);

    if (command === 'verify') {
      const publicJwk = await readGatewayPublicJwk(config.signingKeyPath);
      store = await openAccessLogStore(config);
      const report = await verifyAccessLog(store, [publicJwk]);
      for (const chain of report.chains) {
        out(
          `${chain.ok ? 'ok    ' : 'BROKEN'} chain ${chain.chainId}: seq ${chain.firstSeq}..${chain.headSeq}, ${chain.entries} entries, ` +
            `${chain.checkpoints} checkpoints, ${chain.unanchoredEntries} after the last checkpoint`,
        );
      }
      if (report.chains.length === 0) out('No chains: the access log is empty.');
      const logKey = loadLogVerifier(loadTransparencyConfig(env));
      let treeBroken = false;
      for (const chain of report.chains) {
        const tree = await verifyTree(store, chain.chainId, logKey);
        treeBroken ||= !tree.ok;
        out(
          `${tree.ok ? 'ok    ' : 'BROKEN'} tree ${tree.chainId}: ${tree.leaves} leaves, ${tree.treeHeads} signed tree heads${tree.problem ? `: ${tree.problem}` : ''}${logKey ? '' : ' (signatures not checked: no log key)'}`,
        );
      }
      if (report.firstBreak) {
        const b = report.firstBreak;
        err(`First broken entry: chain ${b.chainId} seq ${b.seq}: ${b.kind} (${b.detail})`);
        return 1;
      }
      return treeBroken ? 1 : 0;
    }

    // What the PostgreSQL store did to its month partitions on the way: the upgrade of an
    // unpartitioned schema (at open: migrate), months created, months a purge dropped whole.
    const partitionEvents = {
      onPartitionEvent: (event: PartitionEvent) => {
        if (event.kind === 'partition-maintenance-failed') err(`partition maintenance failed (${event.error.constructor.name} ${String((event.error as { code?: unknown }).code ?? '')})`);
        else if (event.kind === 'partitioned-upgrade') out(`upgraded the records and the subject index to month partitions: ${event.records} records in ${event.months} month(s)`);
        else if (event.kind === 'partition-created')
          out(`month ${event.month}: partition created${event.movedFromDefault > 0 ? `, ${event.movedFromDefault} records moved in from the DEFAULT partition` : ''}`);
        else out(`month ${event.month}: partition dropped whole (${event.chains.map((c) => `chain ${c.chainId} seq ${c.fromSeq}..${c.toSeq}`).join(', ')})`);
      },
    };

    if (command === 'migrate') {
      store = await openAccessLogStore(config, partitionEvents);
      const { signer, publicJwk } = await loadSigningKey(config.signingKeyPath);
      const treeSigner = loadLogNoteSigner(loadTransparencyConfig(env));
      const results = await migrateToRecords(store, { signer, publicJwks: [publicJwk], treeSigner });
      if (results.length === 0) out('No chains in the row-per-entry format: nothing to migrate.');
      for (const result of results) {
        if (result.status === 'migrated') out(`migrated chain ${result.chainId}: ${result.entries} entries in ${result.records} records, ${result.checkpoints} checkpoints signed`);
        else if (result.status === 'skipped') out(`skipped  chain ${result.chainId}: ${result.reason}`);
        else err(`REFUSED  chain ${result.chainId}: it does not verify in its old format (seq ${result.firstBreak.seq}: ${result.firstBreak.kind}); left as it is`);
      }
      return results.some((result) => result.status === 'refused') ? 1 : 0;
    }

    if (command === 'purge') {
      store = await openAccessLogStore(config, partitionEvents);
      const now = new Date();
      const plans = await planPurge(store, config.retention, now);
      for (const plan of plans) {
        const first = plan.segments[0];
        const last = plan.segments[plan.segments.length - 1];
        const range = first && last ? `seq ${first.fromSeq}..${last.uptoSeq} in ${plan.segments.length} segment(s)` : 'nothing';
        const stop = plan.stoppedAt ? `; stops at seq ${plan.stoppedAt.seq} (${plan.stoppedAt.reason})` : '';
        out(`chain ${plan.chainId}: ${values['dry-run'] ? 'would purge' : 'purging'} ${range}${stop}`);
      }
      if (values['dry-run']) return 0;
      const { signer, publicJwk } = await loadSigningKey(config.signingKeyPath);
      const results = await executePurge(store, plans, signer, [publicJwk], now, loadLogNoteSigner(loadTransparencyConfig(env)));
      let refused = false;
      for (const result of results) {
        if (result.refused) {
          refused = true;
          const b = result.refused.firstBreak;
          err(`chain ${result.chainId}: not purged, it does not verify${b ? ` (seq ${b.seq}: ${b.kind})` : ''}`);
        } else if (result.segments > 0) {
          out(`chain ${result.chainId}: purged ${result.purgedEntries} entries in ${result.segments} segment(s)`);
        } else if (result.purgedEntries > 0) {
          out(`chain ${result.chainId}: removed ${result.purgedEntries} entries an interrupted purge had left before its anchor`);
        }
      }
      return refused ? 1 : 0;
    }

    if (command === 'hold' && sub === 'add') {
      if ((values.case === undefined) === (values.subject === undefined)) throw new UsageError('hold add needs exactly one of --case ID and --subject PNR.');
      store = await openAccessLogStore(config);
      const reason = values.reason !== undefined ? { reason: values.reason } : {};
      if (values.case !== undefined) {
        const hold = await store.addLegalHold({ caseId: values.case, ...reason });
        out(`Legal hold ${hold.id} added for case ${values.case}.`);
      } else {
        const canonical = parsePersonnummer(values.subject).canonical;
        const hmac = subjectHmac(readAuditKeys(config.auditKeysPath), canonical);
        const hold = await store.addLegalHold({ subjectHmac: hmac, ...reason });
        // The number itself is not echoed: terminal scrollback and CI logs are not audit storage.
        out(`Legal hold ${hold.id} added for subject ${hmac.slice(0, 16)}….`);
      }
      return 0;
    }

    if (command === 'hold' && sub === 'list') {
      store = await openAccessLogStore(config);
      const holds = await store.listLegalHolds();
      if (holds.length === 0) out('No legal holds.');
      for (const hold of holds) {
        const target = hold.caseId !== null ? `case ${hold.caseId}` : `subject ${hold.subjectHmac?.slice(0, 16)}…`;
        out(`${hold.id}\t${hold.createdAt}\t${target}${hold.reason ? `\t${hold.reason}` : ''}`);
      }
      return 0;
    }

    throw new UsageError(`Unknown command: ${positionals.join(' ')}`);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof InvalidPersonnummerError) {
      err(error.message);
      return 2;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

function readJson(argument: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${argument}: cannot read ${file} as JSON (${(error as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
}

function verifyReportCommand(
  file: string | undefined,
  values: { readonly 'log-key'?: string | undefined; readonly 'witness-key'?: readonly string[] | undefined; readonly quorum?: string | undefined; readonly previous?: string | undefined },
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  if (file === undefined) throw new UsageError('verify-report needs the report file.');
  if (values['log-key'] === undefined) throw new UsageError("verify-report needs --log-key (the log's verifier key, or a file holding it).");
  const [log, ...extra] = readVerifierKeys('--log-key', [values['log-key']]);
  if (!log || extra.length > 0) throw new UsageError('--log-key: exactly one verifier key.');
  const witnesses = readVerifierKeys('--witness-key', values['witness-key'] ?? []);
  // Keys that share a name are one witness's, before and after a key rotation: the quorum counts witnesses.
  const named = new Set(witnesses.map((w) => w.name)).size;
  const quorum = values.quorum === undefined ? named : Number(values.quorum);
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > named) throw new UsageError(`--quorum: a whole number from 0 to the ${named} witness(es) whose keys are given.`);
  const report = readJson('FILE', file);
  const previous = values.previous === undefined ? undefined : readJson('--previous', values.previous);
  const result = verifyCitizenReport(report, { log, witnesses, quorum }, previous);
  if (!result.ok) {
    err(`REFUSED ${result.code}: ${result.detail}`);
    return 1;
  }
  for (const checkpoint of result.checkpoints) out(`checkpoint ${checkpoint.origin} size ${checkpoint.size}, cosigned by ${checkpoint.witnesses.join(', ') || 'no witness'}`);
  out(`ok     ${result.reads} reads: ${result.proved} proved in the log${result.pending > 0 ? `, ${result.pending} newer than the checkpoint (not yet provable)` : ''}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runAuditCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(3);
    },
  );
}
