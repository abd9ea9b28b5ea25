import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Documents that name tests as their proof (the hazard log, the security checklist) are checked by
 * finding those tests, by file and exact name, in the repository: a renamed or deleted test makes
 * the document's check fail instead of leaving a control without its proof.
 */

/** A test named by a document: its file (from the repository's root) and its exact name. */
export interface NamedTest {
  file: string;
  name: string;
}

/** The names of the tests (and suites) a node:test file declares, as written in `it('…'` calls. */
export function declaredTestNames(source: string): Set<string> {
  const names = new Set<string>();
  const call = /\b(?:it|test|describe)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const match of source.matchAll(call)) names.add(match[2]!.replace(/\\(.)/g, '$1'));
  return names;
}

/** What is missing among the named tests, in words (`<owner>: no test "…" in <file>`); empty when all exist. */
export function missingNamedTests(
  repoRoot: string,
  named: readonly { owner: string; test: NamedTest }[],
): string[] {
  const sources = new Map<string, Set<string> | undefined>();
  const missing: string[] = [];
  for (const { owner, test } of named) {
    if (!sources.has(test.file)) {
      const file = path.join(repoRoot, test.file);
      sources.set(test.file, existsSync(file) ? declaredTestNames(readFileSync(file, 'utf8')) : undefined);
    }
    const names = sources.get(test.file);
    if (!names) missing.push(`${owner}: no file ${test.file}`);
    else if (!names.has(test.name)) missing.push(`${owner}: no test "${test.name}" in ${test.file}`);
  }
  return missing;
}
