import { readFileSync } from 'node:fs';
import Ajv from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';

// The STU3 JSON Schema (see stu3/README.md), read once, compiled per resource type on first use.
interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  type?: string;
  enum?: string[];
}

interface Loaded {
  ajv: Ajv;
  definitions: Record<string, JsonSchema>;
  /** STU3's resource types: the published `ResourceList`'s `oneOf`. */
  resourceTypes: Set<string>;
}
let loaded: Loaded | undefined;

function stu3(): Loaded {
  if (loaded) return loaded;
  const schema = JSON.parse(readFileSync(new URL('./stu3/fhir.schema.v3.json', import.meta.url), 'utf8')) as {
    definitions: Record<string, JsonSchema>;
  };
  const list = schema.definitions.ResourceList as { oneOf?: JsonSchema[] };
  const resourceTypes = new Set((list.oneOf ?? []).map((item) => refName(item.$ref ?? '')));
  // A resource inside another (a Bundle entry's, `contained`) is checked on its own against its own
  // definition (`validate.ts` visits each): so `ResourceList` (a `oneOf` of all 118 resources, whose
  // errors name none of them) is compiled as "an object", which also cuts compiling from seconds to
  // a fraction, as every resource's `contained` no longer pulls in every other resource.
  schema.definitions.ResourceList = { type: 'object' };
  // strict off: the published schema uses keywords ajv's strict mode rejects (e.g. `description` beside `$ref`)
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  ajv.addSchema(schema, 'fhir3');
  loaded = { ajv, definitions: schema.definitions, resourceTypes };
  return loaded;
}

const validators = new Map<string, ValidateFunction>();

/** The compiled definition of a resource type, compiled on first use; undefined when STU3 has no such type. */
function validatorFor(type: string): ValidateFunction | undefined {
  let validate = validators.get(type);
  if (!validate && isStu3ResourceType(type)) {
    validate = stu3().ajv.getSchema(`fhir3#/definitions/${type}`);
    if (validate) validators.set(type, validate);
  }
  return validate;
}

/**
 * Reads the schema and compiles these resource types' definitions now (about a second on 2 cores,
 * most of it the schema and the data types every resource shares), so that the first message
 * validated does not pay for it. A process calls it once, at start.
 */
export function compileStu3Definitions(types: readonly string[]): void {
  for (const type of types) {
    if (!validatorFor(type)) throw new Error(`STU3 has no resource type '${type}'`);
  }
}

/** Whether STU3 has this resource type (the published schema's `ResourceList`). */
export function isStu3ResourceType(type: string): boolean {
  return stu3().resourceTypes.has(type);
}

/**
 * The STU3 JSON Schema's findings for one resource on its own: resources inside it (a Bundle's
 * entries', `contained`) are only required to be objects here, and are checked one by one.
 */
export function schemaProblems(resource: Record<string, unknown>, path: string): string[] {
  const type = String(resource.resourceType);
  const validate = validatorFor(type);
  if (!validate) return [`schema: ${path} has resourceType '${type}', which is not an STU3 resource`];
  if (validate(resource)) return [];
  return (validate.errors ?? []).map((error) => {
    const where = `${path}${error.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
    const allowed =
      error.keyword === 'enum'
        ? ` (one of ${(error.params as { allowedValues: string[] }).allowedValues.join(', ')})`
        : '';
    return `schema: ${where} ${error.message ?? 'is not valid'}${allowed}`;
  });
}

/** The element names a definition allows, its bases' included (`allOf` and `$ref` followed). */
function elementsOf(definition: string, seen = new Set<string>()): Map<string, JsonSchema> {
  const elements = new Map<string, JsonSchema>();
  if (seen.has(definition)) return elements;
  seen.add(definition);
  const visit = (schema: JsonSchema | undefined): void => {
    if (!schema) return;
    if (schema.$ref) {
      for (const [name, element] of elementsOf(refName(schema.$ref), seen)) elements.set(name, element);
    }
    for (const part of schema.allOf ?? []) visit(part);
    for (const [name, element] of Object.entries(schema.properties ?? {})) elements.set(name, element);
  };
  visit(stu3().definitions[definition]);
  return elements;
}

const refName = (ref: string): string => ref.replace(/^#\/definitions\//, '');
const elementCache = new Map<string, Map<string, JsonSchema>>();
const cachedElementsOf = (definition: string): Map<string, JsonSchema> => {
  let elements = elementCache.get(definition);
  if (!elements) {
    elements = elementsOf(definition);
    elementCache.set(definition, elements);
  }
  return elements;
};

/**
 * Elements STU3 does not define, anywhere in the tree (the JSON Schema lets any property through).
 * A resource inside a Bundle entry or `contained` is read as its own `resourceType`.
 */
export function unknownElements(
  value: unknown,
  definition: string,
  path: string,
  problems: string[] = [],
): string[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => unknownElements(item, definition, `${path}[${index}]`, problems));
    return problems;
  }
  if (!value || typeof value !== 'object') return problems;
  let current = definition;
  if (definition === 'ResourceList') {
    const type = (value as { resourceType?: unknown }).resourceType;
    if (typeof type !== 'string' || !isStu3ResourceType(type)) {
      problems.push(`unknown-element: ${path} is not an STU3 resource (resourceType '${String(type)}')`);
      return problems;
    }
    current = type;
  }
  const elements = cachedElementsOf(current);
  for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
    const element = elements.get(name);
    if (!element) {
      problems.push(`unknown-element: ${path}.${name} is not an element of ${current}`);
      continue;
    }
    const target = element.type === 'array' ? element.items : element;
    if (target?.$ref) unknownElements(child, refName(target.$ref), `${path}.${name}`, problems);
  }
  return problems;
}
