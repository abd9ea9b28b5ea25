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

let loaded: { ajv: Ajv; definitions: Record<string, JsonSchema> } | undefined;

function stu3(): { ajv: Ajv; definitions: Record<string, JsonSchema> } {
  if (loaded) return loaded;
  const schema = JSON.parse(readFileSync(new URL('./stu3/fhir.schema.v3.json', import.meta.url), 'utf8')) as {
    definitions: Record<string, JsonSchema>;
  };
  // strict off: the published schema uses keywords ajv's strict mode rejects (e.g. `description` beside `$ref`)
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  ajv.addSchema(schema, 'fhir3');
  loaded = { ajv, definitions: schema.definitions };
  return loaded;
}

const validators = new Map<string, ValidateFunction>();

let resourceTypes: Set<string> | undefined;

/** Whether STU3 has this resource type (the schema's `ResourceList`). */
export function isStu3ResourceType(type: string): boolean {
  resourceTypes ??= new Set(
    ((stu3().definitions.ResourceList as { oneOf?: JsonSchema[] }).oneOf ?? []).map((item) =>
      refName(item.$ref ?? ''),
    ),
  );
  return resourceTypes.has(type);
}

/**
 * The STU3 JSON Schema's findings for one resource on its own (a Bundle's entries' resources are
 * left out: they are checked one by one, so a problem names its resource, not a `oneOf` of 118).
 */
export function schemaProblems(resource: Record<string, unknown>, path: string): string[] {
  const type = String(resource.resourceType);
  let validate = validators.get(type);
  if (!validate) {
    const found = stu3().ajv.getSchema(`fhir3#/definitions/${type}`);
    if (!found) return [`schema: ${path} has resourceType '${type}', which is not an STU3 resource`];
    validate = found;
    validators.set(type, validate);
  }
  const shallow =
    type === 'Bundle' && Array.isArray(resource.entry)
      ? {
          ...resource,
          entry: (resource.entry as unknown[]).map((entry) =>
            entry && typeof entry === 'object' ? { ...entry, resource: undefined } : entry,
          ),
        }
      : resource;
  if (validate(JSON.parse(JSON.stringify(shallow)))) return [];
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
