import { Type } from '@sinclair/typebox';

/** Every refusal of the REST API: a stable code (contracts/src/errors.ts) and words for a person. */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

/** `:id` path parameters. */
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** The refusals a route may answer, each with the error body: `response: { 200: X, ...refusals(400, 404) }`. */
export function refusals<Status extends number>(...statuses: Status[]): Record<Status, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody])) as Record<
    Status,
    typeof ErrorBody
  >;
}
