import { codeRules, messageRules, type RuleProblem } from './rules';
import { compileStu3Definitions, schemaProblems, unknownElements } from './schema';

/** The ITK3 response code a GP system would refuse the message with: a header rule's, or 20009. */
export type ItkRefusalCode = RuleProblem['itkCode'];

export type ItkValidation = { ok: true } | { ok: false; problems: string[]; itkCode: ItkRefusalCode };

const isObject = (value: unknown): value is Record<string, unknown> =>
  Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/**
 * Whether a GP Connect Send Document message may be sent: every resource in it against the STU3
 * JSON Schema (its own definition, nested bundles' entries one by one), no element STU3 does not
 * define, codes (SNOMED CT check digits, the ITK and CareConnect code systems), and the ITK3,
 * Send Document (online consultation) and CareConnect rules (`rules.ts`). Problems name paths and
 * rules, never a patient's details, so they may be logged and shown to staff. A message that fails
 * is never sent: see `ItkMessageInvalid`.
 */
export function validateItkMessage(bundle: unknown): ItkValidation {
  if (!isObject(bundle) || bundle.resourceType !== 'Bundle') {
    return { ok: false, problems: ['itk-message: the message is not a FHIR Bundle'], itkCode: '10008' };
  }
  const found: RuleProblem[] = [];
  forEachResource(bundle, 'Bundle', (resource, path) => {
    for (const text of schemaProblems(resource, path)) found.push({ text, itkCode: '20009' });
  });
  for (const text of unknownElements(bundle, 'ResourceList', 'Bundle'))
    found.push({ text, itkCode: '20009' });
  found.push(...codeRules(bundle, 'Bundle'));
  found.push(...messageRules(bundle));
  if (found.length === 0) return { ok: true };
  const header = found.find((problem) => problem.itkCode !== '20009');
  return { ok: false, problems: found.map((problem) => problem.text), itkCode: header?.itkCode ?? '20009' };
}

function forEachResource(
  resource: Record<string, unknown>,
  path: string,
  visit: (resource: Record<string, unknown>, path: string) => void,
): void {
  visit(resource, path);
  if (Array.isArray(resource.contained)) {
    resource.contained.forEach((inner: unknown, index) => {
      if (isObject(inner)) forEachResource(inner, `${path}.contained[${index}]`, visit);
    });
  }
  if (resource.resourceType !== 'Bundle' || !Array.isArray(resource.entry)) return;
  resource.entry.forEach((entry: unknown, index) => {
    const inner = isObject(entry) ? entry.resource : undefined;
    if (isObject(inner)) forEachResource(inner, `${path}.entry[${index}].resource`, visit);
  });
}

/** Every resource type a Send Document message or an ITK3 acknowledgement carries. */
const ITK_RESOURCE_TYPES = [
  'Bundle',
  'MessageHeader',
  'Organization',
  'Composition',
  'Patient',
  'Practitioner',
  'Encounter',
  'QuestionnaireResponse',
  'Binary',
  'OperationOutcome',
] as const;

/**
 * Compiles the STU3 definitions `validateItkMessage` uses, once, off the request path: a process
 * that validates messages (the record worker, the simulated GP system) calls it at start, and its
 * first message is then checked as fast as any other.
 */
export function prepareItkValidation(): void {
  compileStu3Definitions(ITK_RESOURCE_TYPES);
}

/** A Send Document message refused before sending, with its reasons; never retried (the same input fails again). */
export class ItkMessageInvalid extends Error {
  override name = 'ItkMessageInvalid';
  readonly code = 'ITK_MESSAGE_INVALID';
  constructor(
    readonly problems: string[],
    readonly itkCode: ItkRefusalCode,
  ) {
    super(`the GP Connect Send Document message is not valid (${itkCode}): ${problems.join('; ')}`);
  }
}

/** Throws `ItkMessageInvalid` unless the message is valid. */
export function assertValidItkMessage(bundle: unknown): void {
  const result = validateItkMessage(bundle);
  if (!result.ok) throw new ItkMessageInvalid(result.problems, result.itkCode);
}
