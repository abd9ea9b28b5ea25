import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidNhsNumber } from '../src/nhs-number';

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
});
