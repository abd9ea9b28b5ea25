import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { assertPortsFree, freePort } from '../src/ports';
import { loadLocalSettings } from '../src/settings';

describe('set-up settings and ports', () => {
  it('names a busy port, what wanted it and the setting to change', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      await assert.rejects(
        assertPortsFree([{ port, what: 'triage API', setting: 'GPC_TRIAGE_PORT' }]),
        new RegExp(`port ${port} \\(triage API\\) is already in use; set GPC_TRIAGE_PORT`),
      );
    } finally {
      busy.close();
    }
  });

  it('passes free TCP and UDP ports', async () => {
    const port = await freePort();
    await assertPortsFree([{ port, what: 'x', setting: 'GPC_X', udp: true }]);
  });

  it('refuses an unknown GPC_ variable by name', () => {
    assert.throws(() => loadLocalSettings({ GPC_TRIAGE_PROT: '1' }), /GPC_TRIAGE_PROT: unknown key/);
  });
});
