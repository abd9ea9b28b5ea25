import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ConfigError } from '@gpc/contracts';
import { loadSignallingConfig, turnSettings } from '../src/config';
import { startCallNode } from './support/call-node';
import { CallSockets, ok } from './support/call-sockets';

const base = {
  SIGNALLING_REDIS_URL: 'redis://127.0.0.1:6379',
  SIGNALLING_JWKS_URL: 'http://127.0.0.1:3001/.well-known/jwks.json',
};
const urls =
  'turn:turn.example:3478?transport=udp,turn:turn.example:3478?transport=tcp,turns:turn.example:443?transport=tcp';
const secret = 'a-secret-shared-with-coturn-only';

/** The boot's refusal, as the operator reads it. */
function refusal(env: Record<string, string>): string {
  try {
    loadSignallingConfig({ ...base, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the configuration was accepted');
}

describe('TURN for calls: the relay participants are given credentials for', () => {
  it('is off when neither its URLs nor its secret is set', () => {
    assert.equal(turnSettings(loadSignallingConfig(base)), undefined);
  });

  it('takes the URLs, the secret and how long credentials last from the environment', () => {
    const config = loadSignallingConfig({
      ...base,
      SIGNALLING_TURN_URLS: urls,
      SIGNALLING_TURN_SECRET: secret,
      SIGNALLING_TURN_CREDENTIAL_MINUTES: '30',
    });
    assert.deepEqual(turnSettings(config), { urls: urls.split(','), secret, credentialSeconds: 1800 });
  });

  it('refuses at boot URLs without a secret, a secret without URLs, and a URL that is not turn: or turns:', () => {
    assert.match(refusal({ SIGNALLING_TURN_URLS: urls }), /SIGNALLING_TURN_SECRET: required/);
    assert.match(refusal({ SIGNALLING_TURN_SECRET: secret }), /SIGNALLING_TURN_URLS: required/);
    const message = refusal({
      SIGNALLING_TURN_URLS: 'turn:turn.example:3478,https://turn.example/',
      SIGNALLING_TURN_SECRET: secret,
    });
    assert.match(message, /"https:\/\/turn.example\/" is not a turn: or turns: URL/);
    assert.doesNotMatch(message, /"turn:turn.example:3478"/);
  });

  it('refuses a short secret without ever repeating it', () => {
    const message = refusal({ SIGNALLING_TURN_URLS: urls, SIGNALLING_TURN_SECRET: 'short-secret' });
    assert.match(message, /SIGNALLING_TURN_SECRET: must be at least 16 characters/);
    assert.ok(!message.includes('short-secret'), message);
  });

  describe('handed to participants', async () => {
    const turn = { urls: urls.split(','), secret, credentialSeconds: 3600 };
    const node = await startCallNode({ turn });
    const sockets = new CallSockets();
    after(async () => {
      sockets.closeAll();
      await node.close();
    });

    it("gives each participant the call's TURN URLs with credentials of their own that expire", async () => {
      const call = node.createCall();
      const before = Math.floor(Date.now() / 1000);
      const clinician = await ok(await sockets.connect(node, { token: call.hostToken() }), 'call:join', {});
      const patient = await ok(await sockets.connect(node, { token: call.patientToken }), 'call:join', {});
      for (const joined of [clinician, patient]) {
        const [server, ...more] = joined.iceServers;
        assert.ok(server, 'one ICE server');
        assert.equal(more.length, 0);
        assert.deepEqual(server.urls, turn.urls);
        const [expiry, participantId] = server.username.split(':');
        assert.equal(participantId, joined.self.participantId, 'the username names the participant');
        const expiresIn = Number(expiry) - before;
        assert.ok(expiresIn >= 3600 && expiresIn <= 3660, `expires in an hour (${expiresIn} s)`);
        // what coturn's use-auth-secret checks: base64(HMAC-SHA1(secret, username))
        const expected = createHmac('sha1', secret).update(server.username).digest('base64');
        assert.equal(server.credential, expected);
      }
      assert.notEqual(clinician.iceServers[0]?.username, patient.iceServers[0]?.username);
    });

    it('gives fresh credentials with an ICE restart, for a call that outlasts those of its join', async () => {
      const call = node.createCall();
      const socket = await sockets.connect(node, { token: call.hostToken() });
      const joined = await ok(socket, 'call:join', {});
      const { transportId } = await ok(socket, 'transport:create', { direction: 'send' });
      // credentials name whole seconds: restart in a later second than the join's
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const restarted = await ok(socket, 'transport:restart-ice', { transportId });
      const [server] = restarted.iceServers;
      assert.ok(server, 'one ICE server');
      const [expiry, participantId] = server.username.split(':');
      const [joinExpiry] = joined.iceServers[0]?.username.split(':') ?? [];
      assert.equal(participantId, joined.self.participantId);
      assert.ok(
        Number(expiry) > Number(joinExpiry),
        `${server.username} after ${joined.iceServers[0]?.username}`,
      );
      assert.equal(server.credential, createHmac('sha1', secret).update(server.username).digest('base64'));
    });
  });
});
