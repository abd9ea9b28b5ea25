import { Type } from '@sinclair/typebox';

/** Every refusal of the REST API: a stable code (contracts/src/errors.ts) and words for a person. */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

/** `:id` path parameters. */
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
