import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertExportsDashboardMetrics } from '@gpc/test-support/dashboard-metrics';
import { describe, it } from 'node:test';
import { startTriage } from '@gpc/test-support';

const token = `metrics-${randomUUID()}`;

describe('triage metrics', () => {
  it('refuses a scrape without its bearer token, and serves latency by route pattern and queue depths with it', async (t) => {
    const triage = await startTriage(t, { metricsToken: token, pds: true });
    const practice = triage.practiceA.odsCode;
    for (let i = 0; i < 3; i += 1) await triage.app.inject({ method: 'GET', url: `/practices/${practice}` });

    const refused = await triage.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json<{ code: string }>().code, 'unauthorized');
    const wrong = await triage.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer not-the-token' },
    });
    assert.equal(wrong.statusCode, 401);

    const scrape = await triage.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(scrape.statusCode, 200);
    assert.match(scrape.headers['content-type'] as string, /^text\/plain/);
    const text = scrape.body;
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="triage",method="GET",route="\/practices\/:ods",status_code="200"\} 3/,
    );
    assertExportsDashboardMetrics(text, 'triage');
    assert.ok(!text.includes(practice), 'no practice code (or any id) in a label');
    assert.match(text, /gpc_queue_jobs\{queue="patient-traces",state="waiting",service="triage"\} \d+/);
    assert.match(text, /^# TYPE gpc_call_attendances gauge$/m);
  });

  it('does not serve /metrics at all without a token configured', async (t) => {
    const triage = await startTriage(t);
    const response = await triage.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 404);
  });
});
