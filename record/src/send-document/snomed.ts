// SNOMED CT identifiers end in a Verhoeff check digit, and their last-but-one and last-but-two digits
// are the partition identifier: a code that fails these is a typing mistake, never a concept.

// Verhoeff's tables, computed rather than typed out: the dihedral group D5's multiplication
// (0-4 rotations, 5-9 reflections), and the permutation (1 5 7 6 2 8 3 0 9 4) applied 0..7 times.
const MULTIPLY = Array.from({ length: 10 }, (_, j) =>
  Array.from({ length: 10 }, (_, k) =>
    j < 5 ? (k < 5 ? (j + k) % 5 : 5 + ((j + k) % 5)) : k < 5 ? 5 + ((j - k + 5) % 5) : (j - k + 5) % 5,
  ),
);
const PERMUTE_ONCE = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4];
const PERMUTE = Array.from({ length: 8 }, (_, times) =>
  Array.from({ length: 10 }, (_, digit) => {
    let value = digit;
    for (let i = 0; i < times; i++) value = PERMUTE_ONCE[value]!;
    return value;
  }),
);

const verhoeffValid = (digits: string): boolean =>
  [...digits]
    .reverse()
    .reduce((check, digit, index) => MULTIPLY[check]![PERMUTE[index % 8]![Number(digit)]!]!, 0) === 0;

/**
 * Whether a string can be a SNOMED CT concept id: 6 to 18 digits, no leading zero, a concept's
 * partition (00 or 10, the core and an extension's), and a right Verhoeff check digit.
 */
export function isSnomedConceptId(code: string): boolean {
  if (!/^[1-9][0-9]{5,17}$/.test(code)) return false;
  const partition = code.slice(-3, -1);
  return (partition === '00' || partition === '10') && verhoeffValid(code);
}
