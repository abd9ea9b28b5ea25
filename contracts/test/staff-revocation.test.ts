import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevokedStaff } from '../src/staff-revocation';

describe('staff revocations as each node remembers them', () => {
  const at = Date.UTC(2026, 10, 27, 19, 0, 0, 500);
  const revoked = () => {
    const list = new RevokedStaff(() => at + 1000);
    list.add({ staffId: 'clinician', at });
    return list;
  };

  it('refuses a token issued before the revocation, and takes one issued just after it in the same second', () => {
    const list = revoked();
    assert.equal(list.refuses('clinician', { issuedAt: Math.floor(at / 1000), issuedAtMs: at - 200 }), true);
    assert.equal(list.refuses('clinician', { issuedAt: Math.floor(at / 1000), issuedAtMs: at + 200 }), false);
    assert.equal(list.refuses('clinician', { issuedAt: Math.floor(at / 1000), issuedAtMs: at }), false);
    assert.equal(
      list.refuses('someone else', { issuedAt: Math.floor(at / 1000), issuedAtMs: at - 200 }),
      false,
    );
  });

  it('refuses a token with whole seconds only, or no issue time, for the whole second of the revocation', () => {
    const list = revoked();
    assert.equal(list.refuses('clinician', { issuedAt: Math.floor(at / 1000) }), true);
    assert.equal(list.refuses('clinician', {}), true);
    assert.equal(list.refuses('clinician', { issuedAt: Math.floor(at / 1000) + 1 }), false);
  });
});
