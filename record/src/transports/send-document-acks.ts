// The ack poller: reads the service's MESH inbox for the GP systems' ITK3 acknowledgements
// (workflow GPFED_CONSULT_REPORT_ACK) and MESH's own non-delivery reports, moves each write-back they
// answer in one transaction, and acknowledges the inbox message only after that has committed: a
// crash in between leaves it in the inbox, read again next time, where it is a duplicate that changes
// nothing. MESH away: the poll fails, is logged, and the next one tries again; nothing is lost.
// It also gives up waiting: a sent write-back with no acknowledgement in the configured time needs
// attention, saying how long it waited.
import type pg from 'pg';
import type { Logger } from 'pino';
import { closeOnce, runEvery, type WriteBackJob } from '@gpc/contracts';
import type { MeshClient, MeshMessage } from '../mesh';
import type { AnnounceWriteBack } from '../staff-live';
import {
  applyAcknowledgement,
  listOverdueAcks,
  markAckOverdue,
  type AckEffect,
  type AckOutcome,
} from '../write-back';
import { SEND_DOCUMENT_ACK_WORKFLOW } from './send-document';

/** An ITK3 acknowledgement as record/src/send-document reads it. */
export interface ItkAcknowledgement {
  kind: 'infrastructure' | 'business';
  code: string;
  /** Our ITK message id, the one it answers. */
  acknowledgedMessageId: string;
  /** The code in words, for staff. */
  text: string;
}

export interface AckPollerDeps {
  pool: pg.Pool;
  mesh: Pick<MeshClient, 'listInbox' | 'download' | 'acknowledge'>;
  /** Reads an acknowledgement's ITK3 message Bundle (`parseItkAcknowledgement`); throws when it is not one. */
  parseAcknowledgement(bundle: unknown): ItkAcknowledgement;
  logger: Logger;
  /** How often the inbox is read (0: only when `pollOnce` is called). */
  pollIntervalMs: number;
  infrastructureAckTimeoutMs: number;
  businessAckTimeoutMs: number;
  announce?: AnnounceWriteBack;
}

export interface PollResult {
  /** Inbox messages acknowledged (their effect committed first). */
  acknowledged: number;
  /** Write-backs whose status an acknowledgement, a report or a time-out changed. */
  moved: number;
}

export interface AckPoller {
  /** Reads the inbox once and checks for overdue acknowledgements. Throws when MESH cannot be listed. */
  pollOnce(): Promise<PollResult>;
  /** Stops polling and waits for a poll under way. Idempotent. */
  close(): Promise<void>;
}

/** The ITK3 codes that file a summary (business) and that say it was delivered (infrastructure). */
export const ITK_DELIVERED = '20013';
export const ITK_FILED = '30001';

export function startAckPoller(deps: AckPollerDeps): AckPoller {
  const log = deps.logger.child({ component: 'mesh-acks' });
  let meshDown = false;

  async function pollOnce(): Promise<PollResult> {
    const result: PollResult = { acknowledged: 0, moved: 0 };
    let ids: string[];
    try {
      ids = await deps.mesh.listInbox();
    } catch (error) {
      if (!meshDown)
        log.error(
          { err: error },
          'MESH inbox unreachable: acknowledgements wait there, read once it answers',
        );
      meshDown = true;
      // what is overdue is overdue whether or not MESH answers now; a late acknowledgement still counts
      await timeOutOverdue();
      throw error;
    }
    if (meshDown) log.info('MESH inbox answers again');
    meshDown = false;
    for (const id of ids) {
      try {
        const moved = await handle(id);
        result.acknowledged++;
        if (moved) result.moved++;
      } catch (error) {
        // left in the inbox: the next poll reads it again
        log.warn(
          { err: error, meshMessageId: id },
          'could not handle an inbox message: it stays for the next poll',
        );
      }
    }
    // after the inbox, so an acknowledgement waiting there counts before its time runs out
    result.moved += await timeOutOverdue();
    return result;
  }

  /** Applies one inbox message, then acknowledges it; true when it moved a write-back. */
  async function handle(id: string): Promise<boolean> {
    const message = await deps.mesh.download(id);
    const effect = await apply(message);
    await deps.mesh.acknowledge(id);
    if (effect?.effect === 'unknown')
      log.warn({ meshMessageId: id }, 'an acknowledgement for no message of ours');
    if (effect?.effect === 'duplicate')
      log.info({ meshMessageId: id, ...effect.writeBack }, 'a duplicate acknowledgement: nothing changed');
    if (effect?.effect !== 'recorded') return false;
    if (effect.moved) deps.announce?.(effect.writeBack);
    return effect.moved;
  }

  async function apply(message: MeshMessage): Promise<AckEffect | undefined> {
    if (message.messageType === 'REPORT') return applyReport(message);
    if (message.workflowId !== SEND_DOCUMENT_ACK_WORKFLOW) {
      log.warn(
        { meshMessageId: message.messageId, workflowId: message.workflowId },
        'an inbox message of another workflow: acknowledged, not read',
      );
      return undefined;
    }
    let ack: ItkAcknowledgement;
    try {
      ack = deps.parseAcknowledgement(JSON.parse(message.body.toString('utf8')));
    } catch (error) {
      // its write-back, if any, times out and needs attention: nothing is taken as filed
      log.error(
        { err: error, meshMessageId: message.messageId },
        'an acknowledgement that cannot be read: acknowledged, not applied',
      );
      return undefined;
    }
    const words = ack.text;
    const effect = await applyAcknowledgement(deps.pool, {
      kind: ack.kind,
      match: { itkMessageId: ack.acknowledgedMessageId },
      code: ack.code,
      text: words,
      outcome:
        ack.kind === 'infrastructure'
          ? infrastructureOutcome(ack.code, words)
          : businessOutcome(ack.code, words),
    });
    log.info(
      {
        kind: ack.kind,
        code: ack.code,
        effect: effect.effect,
        ...('writeBack' in effect ? effect.writeBack : {}),
      },
      'ITK3 acknowledgement',
    );
    return effect;
  }

  async function applyReport(message: MeshMessage): Promise<AckEffect | undefined> {
    if (!message.linkedMessageId) {
      log.warn(
        { meshMessageId: message.messageId },
        'a MESH report naming no message: acknowledged, not applied',
      );
      return undefined;
    }
    const code = message.statusCode ?? 'report';
    const text = message.statusDescription ?? 'MESH could not deliver it';
    const effect = await applyAcknowledgement(deps.pool, {
      kind: 'report',
      match: { meshMessageId: message.linkedMessageId },
      code,
      text,
      outcome: { to: 'needs_attention', reason: `MESH could not deliver it: ${text} (MESH status ${code})` },
    });
    log.info({ code, effect: effect.effect }, 'MESH non-delivery report');
    return effect;
  }

  async function timeOutOverdue(): Promise<number> {
    const overdue = await listOverdueAcks(deps.pool, {
      infrastructureMs: deps.infrastructureAckTimeoutMs,
      businessMs: deps.businessAckTimeoutMs,
      limit: 500,
    });
    let moved = 0;
    for (const item of overdue) {
      const waited = durationInWords(item.waitedMs);
      const reason =
        item.missing === 'infrastructure'
          ? `no acknowledgement from the GP system that it received it, after waiting ${waited}`
          : `the GP system received it but has not said it was filed, after waiting ${waited}`;
      if (await markAckOverdue(deps.pool, item, reason)) {
        moved++;
        announce(item.writeBack);
        log.warn(
          { ...item.writeBack, missing: item.missing, waitedMs: Math.round(item.waitedMs) },
          'acknowledgement overdue: needs attention',
        );
      }
    }
    return moved;
  }

  const announce = (job: WriteBackJob) => deps.announce?.(job);
  const polls = runEvery(deps.pollIntervalMs, pollOnce, () => undefined /* logged in pollOnce */);

  return { pollOnce, close: closeOnce(() => polls.stop()) };
}

/** 20013 delivered it (the business acknowledgement decides); any other code refused it for good. */
export function infrastructureOutcome(code: string, words: string): AckOutcome {
  return code === ITK_DELIVERED
    ? { to: 'sent' }
    : { to: 'failed', reason: `the GP system refused it: ${words} (ITK ${code})` };
}

/** 30001 filed it; 30002/30003/30004 (and anything else) need a person, with the reason in words. */
export function businessOutcome(code: string, words: string): AckOutcome {
  return code === ITK_FILED
    ? { to: 'filed' }
    : { to: 'needs_attention', reason: `the GP system did not file it: ${words} (ITK ${code})` };
}

/** 90 000 → "1 minute 30 seconds"; at most two units. */
export function durationInWords(ms: number): string {
  const units: [string, number][] = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  const parts: string[] = [];
  let left = Math.max(0, Math.round(ms));
  for (const [name, size] of units) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0 && parts.length < 2) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    if (parts.length > 0 && count === 0) break;
  }
  return parts.length > 0 ? parts.join(' ') : 'less than a second';
}
