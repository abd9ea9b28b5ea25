import type {
  NavigationRule,
  NavigationRules,
  OpeningHoursSettings,
  PauseList,
  PracticeForm,
  PracticeSettingsView,
  StaffMemberView,
} from '@gpc/contracts';
import type { FieldError } from '../shared/nhsuk';
import type { SettingsClient } from './api';

/**
 * What the practice settings page shows, loaded through the client, and the checks and changes it
 * makes to what an admin typed before anything is sent. The views render these; the wiring in
 * settings-page.ts decides when. No DOM.
 */

export interface SettingsData {
  settings: PracticeSettingsView;
  rules: NavigationRules;
  staff: StaffMemberView[];
  forms: PracticeForm[];
  /** Newest first. */
  pauses: PauseList;
}

export async function loadSettingsData(client: SettingsClient): Promise<SettingsData> {
  const settings = await client.settings();
  const [rules, staff, forms, pauses] = await Promise.all([
    client.navigationRules(),
    client.staffMembers(),
    client.forms(settings.odsCode),
    client.pauses(),
  ]);
  return { settings, rules, staff, forms, pauses };
}

export type Weekday = keyof OpeningHoursSettings;

export const weekdays: readonly { day: Weekday; name: string }[] = [
  { day: 'mon', name: 'Monday' },
  { day: 'tue', name: 'Tuesday' },
  { day: 'wed', name: 'Wednesday' },
  { day: 'thu', name: 'Thursday' },
  { day: 'fri', name: 'Friday' },
  { day: 'sat', name: 'Saturday' },
  { day: 'sun', name: 'Sunday' },
];

/** One opening period as typed, with the ids of its two fields (for error messages). */
export interface PeriodDraft {
  from: { id: string; value: string };
  to: { id: string; value: string };
}

const timePattern = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

/** "8:30" or "0830" as the API's "08:30"; anything else as typed (the check then names it). */
export function normaliseTime(typed: string): string {
  const trimmed = typed.trim().replace('.', ':');
  const match = /^(\d{1,2}):?(\d{2})$/.exec(trimmed);
  return match ? `${match[1]!.padStart(2, '0')}:${match[2]}` : trimmed;
}

/**
 * The opening hours the API takes from what was typed, or the problems with it. Only the form of
 * each time is checked here; whether periods make sense (each ends after it starts) is the server's
 * rule, shown in its own words.
 */
export function openingHoursFrom(draft: Record<Weekday, PeriodDraft[]>): {
  hours: OpeningHoursSettings;
  errors: FieldError[];
} {
  const hours: OpeningHoursSettings = {};
  const errors: FieldError[] = [];
  for (const { day, name } of weekdays) {
    const periods: [string, string][] = [];
    draft[day].forEach((period, index) => {
      const from = normaliseTime(period.from.value);
      const to = normaliseTime(period.to.value);
      const label = draft[day].length > 1 ? `${name}, period ${index + 1}` : name;
      if (!timePattern.test(from))
        errors.push({
          fieldId: period.from.id,
          text: `${label}: enter the opening time as hours and minutes, like 08:00`,
        });
      if (!timePattern.test(to))
        errors.push({
          fieldId: period.to.id,
          text: `${label}: enter the closing time as hours and minutes, like 18:30`,
        });
      periods.push([from, to]);
    });
    hours[day] = periods;
  }
  return { hours, errors };
}

/** The rules with the one at `index` moved `by` places (up is -1), or as they were at either end. */
export function moveRule(rules: NavigationRules, index: number, by: -1 | 1): NavigationRules {
  const to = index + by;
  if (to < 0 || to >= rules.length) return rules;
  const moved = [...rules];
  [moved[index], moved[to]] = [moved[to]!, moved[index]!];
  return moved;
}

export const withoutRule = (rules: NavigationRules, index: number): NavigationRules =>
  rules.filter((_rule, at) => at !== index);

const priorityWords = { urgent: 'Urgent', soon: 'Soon', routine: 'Routine' } as const;

/** A rule in words, column by column: which requests, who gets them, and the priority they get. */
export function describeRule(
  rule: NavigationRule,
  data: Pick<SettingsData, 'staff' | 'forms'>,
): { requests: string; assignTo: string; priority: string } {
  const kind = rule.matchKind === 'medical' ? 'Medical' : rule.matchKind === 'admin' ? 'Admin' : 'All';
  const form = rule.matchFormSlug
    ? (data.forms.find((candidate) => candidate.slug === rule.matchFormSlug)?.title ?? rule.matchFormSlug)
    : undefined;
  const requests = form ? `${kind} requests from the form “${form}”` : `${kind} requests`;
  const member = data.staff.find((candidate) => candidate.id === rule.assignTo);
  return {
    requests,
    assignTo: member ? `${member.name}${member.active ? '' : ' (access stopped)'}` : 'Someone no longer here',
    priority: rule.setPriority ? priorityWords[rule.setPriority] : 'Left as it is',
  };
}

/** Minutes as a person says them: "45 minutes", "4 hours", "2 days", "1 day 6 hours". */
export function minutesInWords(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [
    days ? `${days} ${days === 1 ? 'day' : 'days'}` : '',
    hours ? `${hours} ${hours === 1 ? 'hour' : 'hours'}` : '',
    rest ? `${rest} ${rest === 1 ? 'minute' : 'minutes'}` : '',
  ].filter(Boolean);
  return parts.join(' ') || '0 minutes';
}

/** The pause in force, or the next one planned, if any. */
export const currentPause = (pauses: PauseList) =>
  pauses.find((pause) => pause.status === 'in-force') ?? pauses.find((pause) => pause.status === 'scheduled');

/** A moment as the practice's wall clock shows it, en-GB: "13 Jul 2026, 10:00". */
export const practiceTime = (iso: string, timeZone: string): string =>
  new Date(iso).toLocaleString('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });

/** A moment as a `datetime-local` value on the practice's wall clock: "2026-07-13T10:00". */
export function wallClockValue(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

/**
 * The moment a `datetime-local` value means on the practice's wall clock (not the browser's), or
 * undefined when it is not a date and time. Found by asking the clock what it shows at a first guess
 * and correcting by the difference (twice, for a guess on the far side of a clock change).
 */
export function fromWallClock(value: string, timeZone: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  for (let step = 0; step < 2; step++) {
    const shown = Date.parse(`${wallClockValue(new Date(guess), timeZone)}:00Z`);
    guess += wanted - shown;
  }
  return new Date(guess);
}
