import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttendanceView } from '@gpc/contracts';
import { qualityBetween, readTotals } from '../src/call/quality-sampler';
import { attendanceText, duration } from '../src/staff/calls-view';

/** A getStats() report as Chromium gives one: entries by id. */
function statsReport(entries: Record<string, unknown>[]): RTCStatsReport {
  return new Map(entries.map((entry) => [entry.id as string, entry]));
}

const relayedOverTls = [
  { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' },
  { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', currentRoundTripTime: 0.042 },
  { id: 'L1', type: 'local-candidate', candidateType: 'relay', protocol: 'udp', relayProtocol: 'tls' },
];

describe('the call page’s quality summary, from getStats', () => {
  it('reports bitrates, loss, round trip and freezes over the window, and the relay path it took', () => {
    const at = (bytes: number, lost: number, received: number, freezes: number) =>
      statsReport([
        ...relayedOverTls,
        { id: 'O1', type: 'outbound-rtp', kind: 'video', bytesSent: bytes },
        { id: 'O2', type: 'outbound-rtp', kind: 'video', bytesSent: bytes / 2 },
        {
          id: 'I1',
          type: 'inbound-rtp',
          kind: 'video',
          bytesReceived: bytes * 2,
          packetsLost: lost,
          packetsReceived: received,
          freezeCount: freezes,
          totalFreezesDuration: freezes * 0.5,
        },
      ]);
    const before = readTotals([at(100_000, 10, 990, 1)], 0);
    const after = readTotals([at(1_100_000, 30, 1970, 3)], 10_000);
    assert.deepEqual(qualityBetween(before.totals, after), {
      windowSeconds: 10,
      path: 'relay-tls',
      // (1,000,000 + 500,000) bytes sent in 10 s; 2,000,000 received
      sendKbps: 1200,
      receiveKbps: 1600,
      // 20 lost of 1,000 expected
      lossPercent: 2,
      roundTripMs: 42,
      freezeCount: 2,
      freezeSeconds: 1,
    });
  });

  it('counts a stream that restarted (a rejoin) from zero, and says nothing of a path ICE has not chosen', () => {
    const before = readTotals(
      [statsReport([{ id: 'I1', type: 'inbound-rtp', bytesReceived: 500_000, packetsReceived: 500 }])],
      0,
    );
    const after = readTotals(
      [statsReport([{ id: 'I9', type: 'inbound-rtp', bytesReceived: 125_000, packetsReceived: 100 }])],
      5000,
    );
    const report = qualityBetween(before.totals, after);
    assert.equal(report.receiveKbps, 200);
    assert.equal(report.lossPercent, 0);
    assert.equal(report.path, undefined);
    assert.equal(report.roundTripMs, undefined);
  });
});

describe('call data in words on the request', () => {
  it('says when each person joined and left, how their media went and how well', () => {
    const example: AttendanceView = {
      role: 'patient',
      name: 'Pat Example',
      joinedAt: '2026-11-28T10:00:00Z',
      admittedAt: '2026-11-28T10:01:00Z',
      leftAt: '2026-11-28T10:12:00Z',
      leftReason: 'disconnected',
      mediaPath: 'relay-tcp',
      pathsSeen: ['udp', 'relay-tcp'],
      quality: {
        samples: 4,
        averageSendKbps: 700,
        averageReceiveKbps: 900,
        averageLossPercent: 0.5,
        worstLossPercent: 2,
        averageRoundTripMs: 40,
        freezeCount: 0,
        freezeSeconds: 0,
      },
    };
    const text = attendanceText(example);
    assert.match(text, /^Joined \d\d:\d\d; admitted \d\d:\d\d; left \d\d:\d\d \(connection dropped\)/);
    const waited = { role: 'patient' as const, admittedAt: null, leftAt: null, leftReason: null };
    assert.match(attendanceText({ ...example, ...waited }), /; waiting to be admitted; still connected/);
    assert.match(
      attendanceText({ ...example, ...waited, leftAt: '2026-11-28T10:05:00Z', leftReason: 'left' }),
      /; never admitted; left /,
    );
    assert.doesNotMatch(attendanceText({ ...example, role: 'clinician' }), /admitted/);
    assert.match(text, /media direct \(UDP\), then through the relay \(TCP\)/);
    assert.match(
      text,
      /received 900 kbps, sent 700 kbps, 0.5% loss \(worst 2%\), 40 ms round trip, no video freezes\.$/,
    );
    assert.equal(duration(45), '45 seconds');
    assert.equal(duration(720), '12 minutes');
    assert.equal(duration(3900), '1 hour 5 minutes');
  });
});
