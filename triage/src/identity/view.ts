import type { IdentityView } from '@gpc/contracts';
import type { IdentityState } from '../db/identity';
import { describeIdentity } from './trace-result';

/** Confirmed for the number the request has now: the filing gate's rule, as the page shows it. */
export const isConfirmedForCurrentNumber = (state: IdentityState): boolean =>
  state.confirmedAt !== null && state.nhsNumber !== null && state.confirmedNhsNumber === state.nhsNumber;

/**
 * Why "Confirm patient" cannot be pressed now, in words; undefined when it can (PDS verified the
 * number the request has, and no one has confirmed it yet).
 */
export function whyNotConfirmable(state: IdentityState): string | undefined {
  if (isConfirmedForCurrentNumber(state)) return 'This patient is already confirmed for this NHS number';
  if (state.status !== 'verified')
    return `Only a patient PDS verified can be confirmed. ${describeIdentity(state.status, state.trace?.result ?? null, state.trace)}`;
  if (!state.trace?.result || state.trace.result.nhsNumber !== state.nhsNumber)
    return 'The trace was for another NHS number: wait for the trace of this one';
  return undefined;
}

/** A request's identity as its page shows it. */
export function toIdentityView(state: IdentityState): IdentityView {
  const result = state.trace?.result ?? null;
  const confirmed = isConfirmedForCurrentNumber(state);
  return {
    source: state.source,
    proofingLevel: state.proofingLevel,
    status: state.status,
    reason: describeIdentity(state.status, result, state.trace),
    tracedAt: result?.tracedAt ?? null,
    confirmed,
    confirmedAt: confirmed ? (state.confirmedAt?.toISOString() ?? null) : null,
    confirmedBy: confirmed ? state.confirmedBy : null,
    canConfirm: whyNotConfirmable(state) === undefined,
  };
}
