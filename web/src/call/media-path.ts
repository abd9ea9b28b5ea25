import type { MediaPath } from '@gpc/contracts';

/** The selected ICE candidate pair's local side, as `getStats()` reports it. */
export interface SelectedCandidate {
  /** `host`, `srflx`, `prflx` or `relay`. */
  candidateType: string;
  /** How the browser sends: `udp` or `tcp` (to the media server, or to the TURN server when relayed). */
  protocol: string;
  /** For a relay candidate, how the browser reaches the TURN server: `udp`, `tcp` or `tls`. */
  relayProtocol?: string;
}

type StatsEntry = {
  type: string;
  id: string;
  selectedCandidatePairId?: string;
  selected?: boolean;
  nominated?: boolean;
  state?: string;
  localCandidateId?: string;
  candidateType?: string;
  protocol?: string;
  relayProtocol?: string;
};

/**
 * The local candidate of the pair ICE selected: the transport's `selectedCandidatePairId` (the
 * standard), or a succeeded nominated pair (browsers that leave it out). Undefined before ICE connects.
 */
export function selectedCandidate(report: RTCStatsReport): SelectedCandidate | undefined {
  const entries = [...(report as unknown as Map<string, StatsEntry>).values()];
  const transport = entries.find((entry) => entry.type === 'transport' && entry.selectedCandidatePairId);
  const pair = transport
    ? entries.find((entry) => entry.id === transport.selectedCandidatePairId)
    : entries.find(
        (entry) =>
          entry.type === 'candidate-pair' &&
          (entry.selected || (entry.nominated && entry.state === 'succeeded')),
      );
  const local = pair && entries.find((entry) => entry.id === pair.localCandidateId);
  if (!local?.candidateType || !local.protocol) return undefined;
  return {
    candidateType: local.candidateType,
    protocol: local.protocol,
    ...(local.relayProtocol ? { relayProtocol: local.relayProtocol } : {}),
  };
}

/** Which path media took: direct over UDP or TCP, or relayed and how the browser reached the relay. */
export function mediaPath(candidate: SelectedCandidate): MediaPath | undefined {
  if (candidate.candidateType === 'relay') {
    const protocol = candidate.relayProtocol;
    return protocol === 'udp' || protocol === 'tcp' || protocol === 'tls' ? `relay-${protocol}` : undefined;
  }
  return candidate.protocol === 'tcp' ? 'tcp' : candidate.protocol === 'udp' ? 'udp' : undefined;
}
