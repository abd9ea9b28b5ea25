import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertExportsDashboardMetrics } from '@gpc/test-support/dashboard-metrics';
import { after, before, describe, it } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { startCallNode, type CallNode } from './support/call-node';

const token = `metrics-${randomUUID()}`;

describe('call node metrics', () => {
  let node: CallNode;
  let clinician: Socket | undefined;
  before(async () => (node = await startCallNode({ metricsToken: token })));
  after(async () => {
    clinician?.disconnect();
    await node.close();
  });

  const scrape = (authorization?: string) =>
    fetch(`${node.url}/metrics`, authorization ? { headers: { authorization } } : {});

  it('refuses a scrape without its bearer token', async () => {
    assert.equal((await scrape()).status, 401);
    assert.equal((await scrape('Bearer wrong')).status, 401);
  });

  it("serves latency by route pattern, the node's rooms and peers, and its workers' CPU", async () => {
    for (let i = 0; i < 2; i += 1) await fetch(`${node.url}/health`);
    const call = node.createCall();
    clinician = connect(node.url, {
      auth: { token: call.hostToken() },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const joined = (await clinician.timeout(5000).emitWithAck('call:join', {})) as { ok: boolean };
    assert.ok(joined.ok);

    const response = await scrape(`Bearer ${token}`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="signalling",method="GET",route="\/health",status_code="200"\} 2/,
    );
    assert.match(text, /^gpc_call_rooms\{service="signalling"\} 1$/m);
    assert.match(text, /^gpc_call_peers\{service="signalling"\} 1$/m);
    assert.match(text, /^gpc_call_consumers\{service="signalling"\} 0$/m);
    assert.match(text, /^gpc_media_worker_cpu_seconds_total\{worker="0",service="signalling"\} \d/m);
    assertExportsDashboardMetrics(text, 'signalling');
    assert.ok(!text.includes(call.callId), 'no call id in a label');
  });
});
