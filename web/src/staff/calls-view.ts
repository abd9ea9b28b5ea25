import type { AttendanceView, CallDataView, MediaPath } from '@gpc/contracts';
import { addSummaryRow, byId, element } from '../shared/nhsuk';
import { when } from './words';

/** The request's video calls: who joined and left when, how their media went, and how well. */

/** A media path in words: direct to our media server, or through the relay, and over what. */
export const mediaPathWords: Record<MediaPath, string> = {
  udp: 'direct (UDP)',
  tcp: 'direct (TCP)',
  'relay-udp': 'through the relay (UDP)',
  'relay-tcp': 'through the relay (TCP)',
  'relay-tls': 'through the relay (TLS)',
};

const leftWords: Record<NonNullable<AttendanceView['leftReason']>, string> = {
  left: 'left the call',
  disconnected: 'connection dropped',
  removed: 'removed by the clinician',
  refused: 'refused by the clinician',
  replaced: 'moved to another device',
  ended: 'call ended',
};

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

/** `12 minutes`, `40 seconds`, `1 hour 5 minutes`. */
export function duration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return plural(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const rest = minutes % 60;
  return `${plural(Math.floor(minutes / 60), 'hour')}${rest ? ` ${plural(rest, 'minute')}` : ''}`;
}

/** One connection in a sentence: when, how it ended, its media path and its quality. */
export function attendanceText(attendance: AttendanceView): string {
  const parts = [
    `Joined ${time(attendance.joinedAt)}`,
    // the clinician is in as they join; a patient or guest waits to be let in
    ...(attendance.role === 'clinician'
      ? []
      : [
          attendance.admittedAt
            ? `admitted ${time(attendance.admittedAt)}`
            : attendance.leftAt
              ? 'never admitted'
              : 'waiting to be admitted',
        ]),
    attendance.leftAt
      ? `left ${time(attendance.leftAt)} (${leftWords[attendance.leftReason ?? 'left']})`
      : 'still connected',
  ];
  const paths =
    attendance.pathsSeen.length > 0
      ? attendance.pathsSeen
      : attendance.mediaPath
        ? [attendance.mediaPath]
        : [];
  parts.push(
    paths.length > 0
      ? `media ${paths.map((path) => mediaPathWords[path]).join(', then ')}`
      : 'no media reported',
  );
  const quality = attendance.quality;
  if (quality) {
    const freezes =
      quality.freezeCount === 0
        ? 'no video freezes'
        : `${quality.freezeCount} video freeze${quality.freezeCount === 1 ? '' : 's'} (${quality.freezeSeconds} s)`;
    const roundTrip =
      quality.averageRoundTripMs === null ? '' : `, ${quality.averageRoundTripMs} ms round trip`;
    parts.push(
      `received ${quality.averageReceiveKbps} kbps, sent ${quality.averageSendKbps} kbps, ` +
        `${quality.averageLossPercent}% loss (worst ${quality.worstLossPercent}%)${roundTrip}, ${freezes}`,
    );
  }
  return `${parts.join('; ')}.`;
}

function callHeading(call: CallDataView): string {
  const span =
    call.durationSeconds === null
      ? call.startedAt
        ? 'under way'
        : 'nobody joined'
      : duration(call.durationSeconds);
  return `Call of ${when(call.startedAt ?? call.createdAt)}: ${span}`;
}

export function renderCalls(calls: CallDataView[]): void {
  byId('calls').hidden = calls.length === 0;
  byId('call-list').replaceChildren(
    ...calls.flatMap((call) => {
      const list = element('dl', { class: 'nhsuk-summary-list' });
      for (const attendance of call.attendances)
        addSummaryRow(list, `${attendance.name} (${attendance.role})`, attendanceText(attendance));
      return [element('h3', {}, callHeading(call)), list];
    }),
  );
}
