import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WriteBackView } from '@gpc/contracts';
import { attentionReason, recordStatusText, waitingText } from '../src/staff/words';

const pending = (attempts: number, lastError: string | null): WriteBackView => ({
  status: 'pending',
  attempts,
  lastError,
  lastAttemptAt: attempts > 0 ? '2026-07-13T09:00:00Z' : null,
  filedAt: null,
  serverLocations: [],
  transport: 'gp-connect-send-document',
  sendDocument: null,
});

describe("the dashboard's words for a summary on its way into the GP record", () => {
  it('says a summary whose first attempt is under way is being sent, not that the GP system has not accepted it', () => {
    assert.equal(recordStatusText(pending(0, null)), 'Being sent to the GP record');
    assert.equal(recordStatusText(pending(1, null)), 'Being sent to the GP record');
  });

  it("says why a summary needs attention in one sentence, the GP system's reason and code kept", () => {
    assert.equal(
      recordStatusText({
        ...pending(1, 'the GP system did not file it: patient not registered at this practice (ITK 30002)'),
        status: 'needs_attention',
      }),
      'Needs attention. The GP system did not file it: patient not registered at this practice (ITK 30002)',
    );
    assert.equal(
      attentionReason('MESH could not deliver it: unknown recipient (MESH status 06)'),
      'MESH could not deliver it: unknown recipient (MESH status 06)',
    );
  });

  it('says it will keep trying once an attempt has failed', () => {
    assert.equal(
      recordStatusText(pending(1, 'MESH did not answer')),
      'Not filed yet: the GP system has not accepted it so far, and it will keep trying',
    );
  });
});

describe("the queue's Waiting column", () => {
  it('says how long an open request has waited, and nothing for a closed one, which waits no longer', () => {
    assert.equal(waitingText('new', 45), '45 min');
    assert.equal(waitingText('awaiting_patient', 150), '2 h');
    assert.equal(waitingText('in_progress', 3000), '2 d');
    assert.equal(waitingText('closed', 3000), '—');
  });
});
