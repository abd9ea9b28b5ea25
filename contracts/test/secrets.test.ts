import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  newSecretsKeyEntry,
  openPracticeSecrets,
  sealPracticeSecrets,
  secretKeyringFrom,
  SecretUnreadable,
} from '../src/secrets';

const entry = newSecretsKeyEntry('k1');
const keyring = secretKeyringFrom({ secretsKeys: entry, secretsCurrentKid: 'k1' }, 'TEST')!;
const practiceId = randomUUID();
const field = 'notification_settings.password';

describe('practice secrets sealed with AES-256-GCM', () => {
  it('opens what it sealed, for the same practice and field only', () => {
    const sealed = keyring.seal('s3cret', { practiceId, field });
    assert.match(sealed, /^enc:v1:k1:[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    assert.notEqual(sealed, keyring.seal('s3cret', { practiceId, field }), 'a fresh IV each time');
    assert.equal(keyring.open(sealed, { practiceId, field }), 's3cret');
    assert.throws(() => keyring.open(sealed, { practiceId: randomUUID(), field }), SecretUnreadable);
    assert.throws(
      () => keyring.open(sealed, { practiceId, field: 'fhir_auth.clientSecret' }),
      SecretUnreadable,
    );
  });

  it('refuses a value altered in any part', () => {
    const sealed = keyring.seal('s3cret', { practiceId, field });
    const [head, body] = [sealed.slice(0, sealed.indexOf('.') + 1), sealed.slice(sealed.indexOf('.') + 1)];
    const flipped = `${head}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    assert.throws(() => keyring.open(flipped, { practiceId, field }), /does not decrypt/);
    assert.throws(
      () => keyring.open(sealed.replace('enc:v1:k1:', 'enc:v1:k9:'), { practiceId, field }),
      /key "k9"/,
    );
    assert.throws(() => keyring.open('enc:v1:k1:short', { practiceId, field }), /not in a form/);
  });

  it('seals only the secret fields of a setting, and never seals twice', () => {
    const settings = { provider: 'smtp', host: 'relay.example.org', user: 'u', password: 'pw' };
    const stored = sealPracticeSecrets(keyring, practiceId, 'notification_settings', settings);
    assert.equal(stored.host, 'relay.example.org');
    assert.equal(stored.user, 'u');
    assert.match(stored.password, /^enc:v1:/);
    assert.deepEqual(openPracticeSecrets(keyring, practiceId, 'notification_settings', stored), settings);
    assert.throws(
      () => sealPracticeSecrets(keyring, practiceId, 'notification_settings', stored),
      /already encrypted/,
    );
    assert.throws(
      () => openPracticeSecrets(undefined, practiceId, 'notification_settings', stored),
      /no secrets key configured/,
    );
  });

  it('never shows its keys, printed or logged', () => {
    const key = entry.split(':')[1]!;
    for (const shown of [inspect(keyring), JSON.stringify(keyring), inspect({ keyring }, { depth: 5 })]) {
      assert.ok(!shown.includes(key) && !shown.includes(Buffer.from(key, 'base64').toString('hex')), shown);
    }
  });
});
