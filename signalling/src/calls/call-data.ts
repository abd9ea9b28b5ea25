import { randomUUID } from 'node:crypto';
import {
  AppError,
  qualityReportMinIntervalMs,
  type AttendanceEnd,
  type CallEvent,
  type Participant,
  type QualityReport,
} from '@gpc/contracts';

/** Where call events go: the outbox that posts them to triage (call data), or nowhere. */
export interface CallEventSink {
  record(event: CallEvent): void;
}

/** The call an event is about, as its tokens named it. */
export interface CallDataRef {
  callId: string;
  practiceId: string;
}

interface OpenAttendance {
  id: string;
  call: CallDataRef;
  /** When this connection's last quality report was taken (the rate limit). */
  lastQualityAt: number;
  admitted: boolean;
}

/**
 * The call data this node reports: each socket that joins a call is one attendance (a reconnect is
 * a new one), which ends when the participant leaves, is put out, or the socket goes; the page's
 * quality reports are tied to it. Every event gets its own id here, once, so triage records it
 * once however often the outbox has to send it.
 */
export class CallData {
  private readonly open = new Map<string, OpenAttendance>();

  constructor(
    private readonly sink: CallEventSink | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A socket joined (or joined again, after a rebuild: still the same attendance). */
  joined(call: CallDataRef, socketId: string, self: Participant): void {
    if (this.open.has(socketId)) return;
    const id = randomUUID();
    // the two ids alone: the event's contract takes no other field
    const ref = { callId: call.callId, practiceId: call.practiceId };
    this.open.set(socketId, { id, call: ref, lastQualityAt: 0, admitted: false });
    this.sink?.record({
      type: 'joined',
      eventId: id,
      ...ref,
      at: this.timestamp(),
      participantId: self.participantId,
      role: self.role,
      name: self.name,
    });
  }

  /** The socket's attendance was let into the call (once: the first admission stands). */
  admitted(socketId: string): void {
    const attendance = this.open.get(socketId);
    if (!attendance || attendance.admitted) return;
    attendance.admitted = true;
    this.sink?.record({ type: 'admitted', ...this.eventOf(attendance) });
  }

  /** The socket's attendance ended, and why; the first reason given stands (a later disconnect adds nothing). */
  left(socketId: string, reason: AttendanceEnd): void {
    const attendance = this.open.get(socketId);
    if (!attendance) return;
    this.open.delete(socketId);
    this.sink?.record({ type: 'left', ...this.eventOf(attendance), reason });
  }

  /**
   * The page's quality report for its connection: refused before it has joined, and when it
   * comes sooner than `qualityReportMinIntervalMs` after the last (a page cannot flood triage).
   */
  quality(socketId: string, report: QualityReport): void {
    const attendance = this.open.get(socketId);
    if (!attendance) throw new AppError('conflict', 'join the call first');
    const now = this.now();
    if (now - attendance.lastQualityAt < qualityReportMinIntervalMs)
      throw new AppError('tooManyRequests', 'quality reports come too often');
    attendance.lastQualityAt = now;
    this.sink?.record({ type: 'quality', ...this.eventOf(attendance), report });
  }

  /** The call ended: triage ends its open attendances with it, so they are only forgotten here. */
  ended(call: CallDataRef): void {
    for (const [socketId, attendance] of this.open)
      if (attendance.call.callId === call.callId) this.open.delete(socketId);
    const { callId, practiceId } = call;
    this.sink?.record({ type: 'ended', eventId: randomUUID(), callId, practiceId, at: this.timestamp() });
  }

  /** What every event about one attendance carries: a new event id, the call, now, the attendance. */
  private eventOf(attendance: OpenAttendance) {
    return { eventId: randomUUID(), ...attendance.call, at: this.timestamp(), attendanceId: attendance.id };
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}
