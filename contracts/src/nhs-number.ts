/**
 * Numbers of one digit repeated (0000000000, 2222222222, ...): their check digits are right, but
 * they are placeholders typed to get past a form, never a patient's number.
 */
export function isSentinelNhsNumber(value: string): boolean {
  return /^(\d)\1{9}$/.test(value.replace(/\s+/g, ''));
}

/**
 * NHS numbers are 10 digits whose last is a modulus 11 check digit: weights 10..2 on the first nine,
 * check = 11 - (sum mod 11), 11 becomes 0, and 10 means the number is not valid. A sentinel (one
 * digit repeated) is not valid either, though its check digit is.
 */
export function isValidNhsNumber(value: string): boolean {
  const digits = value.replace(/\s+/g, '');
  if (!/^\d{10}$/.test(digits) || isSentinelNhsNumber(digits)) return false;
  const sum = [...digits.slice(0, 9)].reduce(
    (total, digit, index) => total + Number(digit) * (10 - index),
    0,
  );
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(digits[9]);
}
