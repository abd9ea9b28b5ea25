/**
 * The security checklist (docs/security/asvs-5.0.0-l2.yaml) answers every OWASP ASVS 5.0.0 level 1
 * and 2 requirement: met ones name the tests that show it, documented ones say where, and the rest
 * say why they do not apply or what is missing. This file fails when a requirement is left out, an
 * answer has no proof or reason, or a named test no longer exists. See docs/security.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { missingNamedTests } from '../src/named-tests';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const checklistPath = path.join(repoRoot, 'docs/security/asvs-5.0.0-l2.yaml');
const idsPath = path.join(repoRoot, 'docs/security/asvs-5.0.0-l1-l2-ids.txt');

const NamedTest = Type.Object(
  {
    file: Type.String({ pattern: '^[a-z0-9-]+(/[a-z0-9-]+)?/test/.+\\.test\\.ts$' }),
    name: Type.String({ minLength: 5 }),
  },
  { additionalProperties: false },
);
const Answer = Type.Object(
  {
    id: Type.String({ pattern: '^V[0-9]+\\.[0-9]+\\.[0-9]+$' }),
    level: Type.Union([Type.Literal(1), Type.Literal(2)]),
    section: Type.String({ minLength: 3 }),
    /** met: shown by tests; documented: a documentation requirement, met by docs/security.md; partial: part met, the rest named; gap: not met, said why; n/a: does not apply, said why. */
    status: Type.Union(['met', 'documented', 'partial', 'gap', 'n/a'].map((status) => Type.Literal(status))),
    how: Type.String({ minLength: 10 }),
    tests: Type.Optional(Type.Array(NamedTest)),
  },
  { additionalProperties: false },
);
const Checklist = Type.Object(
  {
    standard: Type.Literal('OWASP ASVS 5.0.0'),
    level: Type.Literal(2),
    requirements: Type.Array(Answer, { minItems: 1 }),
  },
  { additionalProperties: false },
);
type Checklist = Static<typeof Checklist>;

function loadChecklist(): Checklist {
  const checklist: unknown = parse(readFileSync(checklistPath, 'utf8'));
  const problems = [...Value.Errors(Checklist, checklist)].map((error) => `${error.path}: ${error.message}`);
  assert.deepEqual(problems.slice(0, 10), [], 'the checklist does not fit its schema');
  return checklist as Checklist;
}

const asvsIds = () =>
  readFileSync(idsPath, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('V'));

describe('the security checklist (docs/security/asvs-5.0.0-l2.yaml)', () => {
  it('answers every ASVS 5.0.0 level 1 and 2 requirement once, in the standard’s order', () => {
    const answered = loadChecklist().requirements.map((answer) => answer.id);
    assert.deepEqual(answered, asvsIds());
  });

  it('shows each met requirement by at least one test, and gives a reason for every other answer', () => {
    const unproven = loadChecklist()
      .requirements.filter((answer) =>
        answer.status === 'met' ? (answer.tests ?? []).length === 0 : answer.how.length < 20,
      )
      .map((answer) => `${answer.id} (${answer.status})`);
    assert.deepEqual(unproven, []);
  });

  it('names only tests that exist, so a requirement cannot lose its proof unnoticed', () => {
    const named = loadChecklist().requirements.flatMap((answer) =>
      (answer.tests ?? []).map((test) => ({ owner: answer.id, test })),
    );
    assert.deepEqual(missingNamedTests(repoRoot, named), []);
  });
});
