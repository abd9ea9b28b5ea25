import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyBaseLogger } from 'fastify';
import {
  AppError,
  ClientPayloads,
  type Ack,
  type AckError,
  type ClientEventName,
  type ClientResults,
} from '@gpc/contracts';
import { InvalidMediaParametersError, MediaNotFoundError } from '@gpc/media';
import type { CallSocket } from './call-socket';

export type ClientPayload<E extends ClientEventName> = Static<(typeof ClientPayloads)[E]>;
export type ClientEventHandler<E extends ClientEventName> = (
  payload: ClientPayload<E>,
) => Promise<ClientResults[E]> | ClientResults[E];

const payloadCheckers = Object.fromEntries(
  Object.entries(ClientPayloads).map(([event, schema]) => [event, TypeCompiler.Compile(schema)]),
) as { [E in ClientEventName]: ReturnType<typeof TypeCompiler.Compile<(typeof ClientPayloads)[E]>> };

/** A payload the contract refuses, said as its first fault. */
function invalidPayload(checker: TypeCheck<TSchema>, payload: unknown): AckError {
  const first = checker.Errors(payload).First();
  return {
    code: 'badRequest',
    message: first ? `${first.path || 'payload'}: ${first.message}` : 'invalid payload',
  };
}

/** A refusal the client may be told of; undefined for a fault, which it sees only as `internal`. */
function refusal(error: unknown): AckError | undefined {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  if (error instanceof MediaNotFoundError) return { code: 'notFound', message: error.message };
  if (error instanceof InvalidMediaParametersError)
    return { code: 'badRequest', message: 'invalid media parameters' };
  return undefined;
}

/**
 * How a call socket takes client events: each payload is checked against its contract schema, and
 * the handler's result, or its coded refusal, is the acknowledgement. Faults are logged, and
 * answered `internal` without their details.
 */
export function acknowledgedEvents(
  socket: CallSocket,
  logger: FastifyBaseLogger,
): <E extends ClientEventName>(event: E, handler: ClientEventHandler<E>) => void {
  return (event, handler) => {
    type Result = Ack<ClientResults[typeof event]>;
    const checker = payloadCheckers[event];
    const answer = async (payload: unknown, reply: (result: Result) => void): Promise<void> => {
      if (!checker.Check(payload)) return reply({ ok: false, error: invalidPayload(checker, payload) });
      try {
        reply({ ok: true, data: await handler(payload) });
      } catch (error) {
        const refused = refusal(error);
        if (!refused)
          logger.error({ err: error, event, callId: socket.data.session.id }, 'call event failed');
        reply({ ok: false, error: refused ?? { code: 'internal', message: 'Internal error' } });
      }
    };
    // socket.io's typed `on` cannot see through the mapped event type, hence the loose listener
    (socket as unknown as { on(name: string, fn: (...args: unknown[]) => void): void }).on(
      event,
      (payload, ack) => {
        // every event is a request: without an ack there is no one to answer
        if (typeof ack === 'function') void answer(payload, ack as (result: Result) => void);
      },
    );
  };
}
