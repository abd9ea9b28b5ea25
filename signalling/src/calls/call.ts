import { randomUUID } from 'node:crypto';
import type { Participant, ParticipantRole } from '@gpc/contracts';
import type { Room } from '@gpc/media';

export interface CallParticipant {
  id: string;
  name: string;
  role: ParticipantRole;
  state: 'waiting' | 'admitted';
  /** The socket currently speaking for this participant; a reconnect replaces it. */
  socketId: string | undefined;
}

/** A video call for one consultation, in one practice. Media lives in `room` while anyone is in it. */
export class Call {
  readonly participants = new Map<string, CallParticipant>();
  /** Participants the clinician removed: their links no longer let them in. */
  readonly removed = new Set<string>();
  room: Room | undefined;
  roomPending: Promise<Room> | undefined;

  constructor(
    readonly id: string,
    readonly practiceId: string,
    readonly consultationId: string,
    readonly createdBy: string,
    readonly expiresAt: Date,
  ) {}

  /** What a participant may see: clinicians see who waits; others see only who is in the call. */
  visibleTo(viewer: CallParticipant): Participant[] {
    return [...this.participants.values()]
      .filter((p) => p.socketId !== undefined && (viewer.role === 'clinician' || p.state === 'admitted'))
      .map((p) => ({ participantId: p.id, name: p.name, role: p.role, state: p.state }));
  }
}

export class CallRegistry {
  private readonly calls = new Map<string, Call>();

  create(practiceId: string, consultationId: string, createdBy: string, ttlSeconds: number): Call {
    const call = new Call(
      randomUUID(),
      practiceId,
      consultationId,
      createdBy,
      new Date(Date.now() + ttlSeconds * 1000),
    );
    this.calls.set(call.id, call);
    return call;
  }

  /** A call of this practice; another practice's call is as good as missing. */
  get(callId: string, practiceId: string): Call | undefined {
    const call = this.calls.get(callId);
    return call && call.practiceId === practiceId ? call : undefined;
  }

  all(): IterableIterator<Call> {
    return this.calls.values();
  }

  delete(callId: string): void {
    this.calls.get(callId)?.room?.close();
    this.calls.delete(callId);
  }
}
