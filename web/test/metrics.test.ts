import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertExportsDashboardMetrics } from '@gpc/test-support/dashboard-metrics';
import { after, before, describe, it } from 'node:test';
import { startStaticServer, type RunningStaticServer } from './support/static';

const token = `metrics-${randomUUID()}`;

describe('web production server metrics', () => {
  let web: RunningStaticServer;
  before(
    async () => (web = await startStaticServer({ triageUrl: 'http://127.0.0.1:9', metricsToken: token })),
  );
  after(() => web.close());

  it('refuses a scrape without its bearer token, and labels latency by route class, never the URL', async () => {
    await fetch(`${web.url}healthz`);
    await fetch(`${web.url}form.html?practice=A81001`);
    await fetch(`${web.url}assets/no-such-${randomUUID()}.js`);

    assert.equal((await fetch(`${web.url}metrics`)).status, 401);
    const scrape = await fetch(`${web.url}metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="web",method="GET",route="\/healthz",status_code="200"\} 1/,
    );
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="web",method="GET",route="page",status_code="200"\} 1/,
    );
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="web",method="GET",route="\/assets\/\*",status_code="404"\} 1/,
    );
    assert.match(text, /route="\/metrics",status_code="401"/);
    assertExportsDashboardMetrics(text, 'web');
    assert.ok(!text.includes('A81001') && !text.includes('no-such-'), 'no URL in a label');
  });
});
