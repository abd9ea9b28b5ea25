import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSentinelNhsNumber, isValidNhsNumber } from '../src/nhs-number';

describe('NHS number check digit', () => {
  it('accepts valid numbers, with or without spaces', () => {
    for (const valid of ['9434765919', '943 476 5919', '4010232137', '9990000018'])
      assert.ok(isValidNhsNumber(valid), valid);
  });
  it('refuses a wrong check digit, a check of 10, and anything not ten digits', () => {
    for (const invalid of ['9434765918', '1234567890', '943476591', '94347659190', 'abcdefghij', '']) {
      assert.equal(isValidNhsNumber(invalid), false, invalid);
    }
  });
  it('refuses sentinel numbers (one digit ten times), whose check digits are right', () => {
    for (const sentinel of ['0000000000', '1111111111', '2222222222', '4444444444', '9999999999']) {
      assert.equal(isSentinelNhsNumber(sentinel), true, sentinel);
      assert.equal(isValidNhsNumber(sentinel), false, sentinel);
    }
    assert.equal(isSentinelNhsNumber('9000000009'), false);
  });
});
