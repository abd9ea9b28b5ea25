import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTriage } from '@gpc/test-support';

describe('a practice’s own website origins (where the widget may open its form), against the real PostgreSQL', async () => {
  const { app, as, practiceA, practiceB } = await startTriage({ after });
  const admin = as(practiceA, 'admin');
  const change = (websiteOrigins: unknown, client = admin) =>
    client.inject({ method: 'PATCH', url: '/practice', payload: { websiteOrigins } });

  it('are set by the practice’s admins, shown in its settings and published for the web server', async () => {
    const origins = ['https://www.riverside-surgery.example', 'https://riverside.example:8443'];
    const changed = await change(origins);
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json<{ websiteOrigins: string[] }>().websiteOrigins, origins);
    const read = await admin.inject({ method: 'GET', url: '/practice' });
    assert.deepEqual(read.json<{ websiteOrigins: string[] }>().websiteOrigins, origins);

    const published = await app.inject({ method: 'GET', url: '/practices/A81001/embedding' });
    assert.equal(published.statusCode, 200);
    assert.deepEqual(published.json(), { websiteOrigins: origins });
    const other = await app.inject({ method: 'GET', url: '/practices/B82002/embedding' });
    assert.deepEqual(other.json(), { websiteOrigins: [] }, 'another practice’s are its own');
    const unknown = await app.inject({ method: 'GET', url: '/practices/Z99999/embedding' });
    assert.equal(unknown.statusCode, 404);

    // an empty list takes them all away
    assert.equal((await change([])).statusCode, 200);
    const cleared = await app.inject({ method: 'GET', url: '/practices/A81001/embedding' });
    assert.deepEqual(cleared.json(), { websiteOrigins: [] });
  });

  it('must each be exactly an https origin (plain http only for this machine)', async () => {
    for (const bad of [
      'http://www.riverside-surgery.example',
      'https://www.riverside-surgery.example/',
      'https://www.riverside-surgery.example/contact',
      'https://WWW.Riverside-Surgery.example',
      'https://www.riverside-surgery.example:443',
      'https://*.example',
      "https://example 'unsafe-inline'",
      'https://example;script-src *',
      '*',
      "'self'",
      'javascript:alert(1)',
      'data:',
    ]) {
      const refused = await change([bad]);
      assert.equal(refused.statusCode, 400, bad);
    }
    assert.equal((await change(['https://a.example', 'https://a.example'])).statusCode, 400, 'twice');
    assert.equal((await change(['http://localhost:8080', 'http://127.0.0.1:5173'])).statusCode, 200);
  });

  it('are changed by admins only, of their own practice', async () => {
    for (const role of ['clinician', 'reception'] as const) {
      assert.equal((await change(['https://evil.example'], as(practiceA, role))).statusCode, 403, role);
    }
    assert.equal((await change(['https://b.example'], as(practiceB, 'admin'))).statusCode, 200);
    const ours = await app.inject({ method: 'GET', url: '/practices/A81001/embedding' });
    assert.ok(!ours.json<{ websiteOrigins: string[] }>().websiteOrigins.includes('https://b.example'));
  });
});
