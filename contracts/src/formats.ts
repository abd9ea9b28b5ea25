import { FormatRegistry } from '@sinclair/typebox';

/**
 * The string formats our schemas use, for TypeBox's own compiler (fastify's ajv knows them
 * already): without them, TypeCompiler refuses every value of a `uuid` or `date-time` field.
 * See: https://json-schema.org/draft/2020-12/json-schema-validation#name-dates-times-and-duration
 */
export function registerFormats(): void {
  if (!FormatRegistry.Has('uuid'))
    FormatRegistry.Set('uuid', (value) =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
    );
  if (!FormatRegistry.Has('date-time'))
    FormatRegistry.Set(
      'date-time',
      (value) =>
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) &&
        !Number.isNaN(Date.parse(value)),
    );
}
