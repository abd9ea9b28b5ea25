import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meshAuthorizationHeader, meshTimestamp, MeshAuthenticator } from '../src/mesh';

// A fixed example worked from NHS England's own MESH code:
// - the signed string and header layout: NHSDigital/mesh-client `mesh_client/__init__.py`, class
//   AuthTokenGenerator (`f"{mailbox}:{nonce}:{nonce_count}:{password}:{now}"`, HMAC-SHA256 with the
//   shared key, hex; header `NHSMESH {mailbox}:{nonce}:{nonce_count}:{now}:{hmac}`, now = UTC %Y%m%d%H%M);
// - the inputs: NHSDigital/mesh-sandbox `src/mesh_sandbox/tests/helpers.py` generate_auth_token's
//   defaults (password "password", secret key "TestKey", nonce_count "1"), its canned mailbox X26ABC1
//   (`store/data/mailboxes.jsonl`), and the nonce and timestamp of the example header in
//   `src/mesh_sandbox/dependencies.py` (2c001608-5f09-4840-9611-bea43e666a30, 201511201038).
// The expected HMAC was computed apart from this code, with OpenSSL:
//   printf 'X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:1:password:201511201038' \
//     | openssl dgst -sha256 -hmac TestKey
const example = {
  mailboxId: 'X26ABC1',
  password: 'password',
  sharedKey: 'TestKey',
  nonce: '2c001608-5f09-4840-9611-bea43e666a30',
  nonceCount: 1,
  timestamp: '201511201038',
};
const expectedHmac = '9712e9dd1aa836431fa50134c333fceda28dc7e380675d9b0d359477f56d034a';
// the same string signed without the password: what a client and stand-in that both left it out would agree on
const hmacWithoutPassword = '0c846f4b5a7047d52ad937fd3d86f9ecfe798e407ff8d04ad2a6564b6b503139';

describe('the MESH Authorization header', () => {
  it('matches the example worked from NHS England mesh-client and mesh-sandbox, byte for byte', () => {
    assert.equal(
      meshAuthorizationHeader(example),
      `NHSMESH X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:1:201511201038:${expectedHmac}`,
    );
  });

  it('signs the mailbox password: leaving it out gives a different HMAC', () => {
    assert.notEqual(expectedHmac, hmacWithoutPassword);
    assert.ok(!meshAuthorizationHeader(example).includes(hmacWithoutPassword));
    assert.ok(!meshAuthorizationHeader(example).includes('password'));
    assert.notEqual(
      meshAuthorizationHeader({ ...example, password: 'other' }),
      meshAuthorizationHeader(example),
    );
  });

  it('changes with the shared key, the nonce count and the timestamp', () => {
    const base = meshAuthorizationHeader(example);
    assert.notEqual(meshAuthorizationHeader({ ...example, sharedKey: 'OtherKey' }), base);
    assert.notEqual(meshAuthorizationHeader({ ...example, nonceCount: 2 }), base);
    assert.notEqual(meshAuthorizationHeader({ ...example, timestamp: '201511201039' }), base);
  });

  it('puts a UTC yyyyMMddHHmm timestamp in it, as mesh-client does', () => {
    assert.equal(meshTimestamp(new Date('2015-11-20T10:38:59.999Z')), '201511201038');
  });

  it('keeps one nonce per client and counts up from 0, as mesh-client does', () => {
    const auth = new MeshAuthenticator(
      { mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey' },
      () => new Date('2015-11-20T10:38:00Z'),
    );
    const [first, second] = [auth.next(), auth.next()].map((h) => h.slice('NHSMESH '.length).split(':'));
    assert.equal(first![1], second![1]);
    assert.deepEqual([first![2], second![2]], ['0', '1']);
    assert.equal(first![3], '201511201038');
  });
});
