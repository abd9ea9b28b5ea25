/**
 * The hazard log's controls are tests: this file fails when a hazard has no control, a control
 * names no test, a named test file or test no longer exists, or a risk rating does not follow the
 * DCB0129 risk matrix the log states. See docs/safety/README.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { declaredTestNames, missingNamedTests } from '../src/named-tests';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const logPath = path.join(repoRoot, 'docs/safety/hazard-log.yaml');

const severities = ['Minor', 'Significant', 'Considerable', 'Major', 'Catastrophic'] as const;
const likelihoods = ['Very low', 'Low', 'Medium', 'High', 'Very high'] as const;
/** DCB0129's risk matrix: rows by likelihood, columns by severity, as docs/safety/README.md shows it. */
const riskMatrix: Record<(typeof likelihoods)[number], number[]> = {
  'Very high': [3, 4, 4, 5, 5],
  High: [2, 3, 3, 4, 5],
  Medium: [2, 2, 3, 3, 4],
  Low: [1, 2, 2, 3, 4],
  'Very low': [1, 1, 2, 2, 3],
};

/** The hazards the issue that introduced the log requires it to cover, by topic. */
const requiredTopics = [
  'wrong-patient',
  'filed-differs-from-seen',
  'reply-unseen-at-close',
  'request-not-actioned',
  'closed-in-core-hours',
  'red-flag-missed',
  'summary-never-filed',
  'summary-filed-twice',
  'call-with-wrong-person',
  'link-opened-by-someone-else',
  'paused-by-mistake',
];

const Rating = Type.Object(
  {
    severity: Type.Union(severities.map((value) => Type.Literal(value))),
    likelihood: Type.Union(likelihoods.map((value) => Type.Literal(value))),
    risk: Type.Integer({ minimum: 1, maximum: 5 }),
  },
  { additionalProperties: false },
);
const NamedTest = Type.Object(
  { file: Type.String({ pattern: '^[a-z0-9-]+/.+\\.test\\.ts$' }), name: Type.String({ minLength: 5 }) },
  { additionalProperties: false },
);
const Control = Type.Object(
  {
    id: Type.String({ pattern: '^H[0-9]{2}-C[0-9]+$' }),
    description: Type.String({ minLength: 20 }),
    tests: Type.Array(NamedTest, { minItems: 1 }),
  },
  { additionalProperties: false },
);
const Hazard = Type.Object(
  {
    id: Type.String({ pattern: '^H[0-9]{2}$' }),
    topic: Type.String(),
    title: Type.String({ minLength: 10 }),
    hazard: Type.String({ minLength: 20 }),
    causes: Type.Array(Type.String({ minLength: 10 }), { minItems: 1 }),
    effect: Type.String({ minLength: 10 }),
    harm: Type.String({ minLength: 10 }),
    initial: Rating,
    controls: Type.Array(Control, { minItems: 1 }),
    residual: Rating,
    status: Type.String({ minLength: 5 }),
  },
  { additionalProperties: false },
);
const HazardLog = Type.Object(
  {
    system: Type.String(),
    standard: Type.Literal('DCB0129'),
    reviewed_by_cso: Type.Union([Type.Null(), Type.String()]),
    hazards: Type.Array(Hazard, { minItems: 1 }),
  },
  { additionalProperties: false },
);
type HazardLog = Static<typeof HazardLog>;

function loadLog(): HazardLog {
  const log: unknown = parse(readFileSync(logPath, 'utf8'));
  const problems = [...Value.Errors(HazardLog, log)].map((error) => `${error.path}: ${error.message}`);
  assert.deepEqual(problems.slice(0, 10), [], 'the hazard log does not fit its schema');
  return log as HazardLog;
}

const riskOf = (rating: { severity: string; likelihood: string }) =>
  riskMatrix[rating.likelihood as (typeof likelihoods)[number]][
    severities.indexOf(rating.severity as (typeof severities)[number])
  ];

describe('the hazard log (docs/safety/hazard-log.yaml)', () => {
  it('finds a test by its exact name, and not one that is missing or renamed', () => {
    const source = `describe('a suite', () => {\n  it('files once', async () => {});\n  it(\n    "keeps the patient\\"s record",\n  () => {});\n});`;
    const names = declaredTestNames(source);
    assert.ok(names.has('files once'));
    assert.ok(names.has('keeps the patient"s record'));
    assert.ok(!names.has('files twice'));
  });

  it('covers every required hazard, each with controls, ratings by the matrix and a residual risk no worse', () => {
    const log = loadLog();
    const topics = new Set(log.hazards.map((hazard) => hazard.topic));
    assert.deepEqual(
      requiredTopics.filter((topic) => !topics.has(topic)),
      [],
      'hazards the log must cover',
    );
    const ids = log.hazards.map((hazard) => hazard.id);
    assert.equal(new Set(ids).size, ids.length, 'hazard ids are unique');
    for (const hazard of log.hazards) {
      assert.equal(hazard.initial.risk, riskOf(hazard.initial), `${hazard.id}: initial risk by the matrix`);
      assert.equal(
        hazard.residual.risk,
        riskOf(hazard.residual),
        `${hazard.id}: residual risk by the matrix`,
      );
      assert.ok(hazard.residual.risk <= hazard.initial.risk, `${hazard.id}: controls do not raise the risk`);
      for (const control of hazard.controls)
        assert.ok(control.id.startsWith(`${hazard.id}-`), `${control.id} belongs to ${hazard.id}`);
    }
  });

  it('names only tests that exist, so a control cannot lose its proof unnoticed', () => {
    const log = loadLog();
    const named = log.hazards
      .flatMap((hazard) => hazard.controls)
      .flatMap((control) => control.tests.map((test) => ({ owner: control.id, test })));
    const missing = missingNamedTests(repoRoot, named);
    assert.deepEqual(missing, []);
  });
});
