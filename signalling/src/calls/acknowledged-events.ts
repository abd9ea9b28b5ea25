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

/** A payload the contract refuses, said as its first fault (a hostile key in its path cut short). */
function invalidPayload(checker: TypeCheck<TSchema>, payload: unknown): AckError {
  const first = checker.Errors(payload).First();
  const path = first?.path
    ? first.path.length > 100
      ? `${first.path.slice(0, 100)}…`
      : first.path
    : 'payload';
  return { code: 'badRequest', message: first ? `${path}: ${first.message}` : 'invalid payload' };
}

/**
 * How deep a payload may nest: mediasoup's parameters need five levels. Deeper is refused before
 * anything walks or serialises it (mediasoup's JSON.stringify overflowed the stack at 20 000 levels).
 */
const maxPayloadDepth = 16;

/** True when `value` has objects nested deeper than `limit` (walked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
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
      if (nestedDeeperThan(payload, maxPayloadDepth))
        return reply({
          ok: false,
          error: { code: 'badRequest', message: `payload nested deeper than ${maxPayloadDepth} levels` },
        });
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
      (...args) => {
        // every event is a request: without an ack (socket.io's is always last) no one is answered
        const ack = args.at(-1);
        if (typeof ack !== 'function') return;
        const reply = ack as (result: Result) => void;
        // exactly one payload: a missing payload or an extra argument would otherwise leave the ack unanswered
        if (args.length !== 2) return reply({ ok: false, error: onePayloadOnly(event) });
        void answer(args[0], reply);
      },
    );
  };
}

const onePayloadOnly = (event: string): AckError => ({
  code: 'badRequest',
  message: `${event} takes one payload and an acknowledgement`,
});

const isClientEvent = (event: unknown): event is ClientEventName =>
  typeof event === 'string' && Object.hasOwn(ClientPayloads, event);

/**
 * Events the contract does not name are ignored, or refused `badRequest` when they ask for an
 * answer, so a client's typo (or a hostile name like `__proto__`) is told, never left waiting.
 */
export function refuseUnknownEvents(socket: CallSocket): void {
  socket.onAny((event: unknown, ...args: unknown[]) => {
    const ack = args.at(-1);
    if (isClientEvent(event) || typeof ack !== 'function') return;
    const name = typeof event === 'string' ? event.slice(0, 100) : typeof event;
    (ack as (result: Ack<never>) => void)({
      ok: false,
      error: { code: 'badRequest', message: `no such event: ${name}` },
    });
  });
}
