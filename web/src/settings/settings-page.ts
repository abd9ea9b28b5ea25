import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './settings.css';
import type {
  ConsultationKind,
  ConsultationPriority,
  FhirAuth,
  NavigationRule,
  NavigationRules,
  OutOfHours,
  PracticeNation,
  PracticeSettingsChange,
  ResponseTargets,
  StaffSession,
} from '@gpc/contracts';
import { ApiError } from '../shared/api';
import { byId, showFieldErrors, type FieldError } from '../shared/nhsuk';
import { resumeStaffSession } from '../shared/cis2-sign-in';
import { showSignedOut, wireSignIn } from '../shared/sign-in';
import { SettingsClient } from './api';
import { mfaPolicySaved, readMfaPolicy, renderMfaPolicy } from './mfa-policy';
import {
  readHoursDraft,
  renderSettings,
  showAuthFields,
  showSaved,
  showTransportFields,
  targetPriorities,
} from './render';
import {
  fromWallClock,
  loadSettingsData,
  moveRule,
  openingHoursFrom,
  practiceTime,
  weekdays,
  withoutRule,
  type SettingsData,
} from './state';
import { renderWebsites, websiteOriginFrom } from './websites';

/**
 * The practice settings page, for a practice's admins: sign in (or come with the dashboard's
 * session), then the practice's nation, hours, out-of-hours choice, response time message and
 * targets, exceptional pauses, care navigation rules and GP record endpoint. Everyone else is told
 * they need an admin (triage refuses them too). This file wires the forms to the client (api.ts)
 * and the views (render.ts); it renders nothing itself.
 */

const client = new SettingsClient({
  signedOut: () => {
    show('sign-in');
    showSignedOut();
  },
});
let data: SettingsData | undefined;

function show(section: 'sign-in' | 'not-admin' | 'settings'): void {
  for (const id of ['sign-in', 'not-admin', 'settings']) byId(id).hidden = id !== section;
  byId(section).querySelector('h1')?.focus();
}

/** Loads every setting again and shows them. */
async function reload(): Promise<void> {
  data = await loadSettingsData(client);
  renderSettings(data, {
    moveRule: replaceRulesWith(moveRule),
    removeRule: replaceRulesWith(withoutRule),
    endPause,
  });
  renderMfaPolicy(await client.mfaPolicy());
  renderWebsites(data.settings.websiteOrigins, removeWebsite);
}

async function enter(staff: StaffSession['staff']): Promise<void> {
  if (staff.role !== 'admin') return show('not-admin');
  try {
    await reload();
    show('settings');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return show('not-admin');
    show('sign-in');
    showFieldErrors([{ fieldId: 'ods', text: serverWords(error, 'Could not load the practice’s settings') }]);
  }
}

/**
 * A refusal in words for the error summary: the server's own message; a schema check's (which names
 * the body's fields, not the page's) after a sentence saying the settings were not saved.
 */
function serverWords(error: unknown, fallback: string): string {
  if (!(error instanceof ApiError)) return fallback;
  if (error.status === 401) return 'Your session has ended. Sign in again.';
  if (error.code === 'badRequest' && /^body\b/.test(error.message))
    return `The service could not accept these settings (${error.message})`;
  return error.message || fallback;
}

/**
 * Runs one save: errors found on the page stop it before anything is sent; a refusal goes to the
 * error summary, linked to `fieldId`; success loads the settings again and says what was saved.
 */
async function save(
  saved: string,
  fieldId: string,
  action: () => Promise<unknown>,
  errors: FieldError[] = [],
  refusedField?: (error: ApiError) => string | undefined,
): Promise<void> {
  showSaved();
  showFieldErrors(errors);
  if (errors.length > 0) return;
  try {
    await action();
    await reload();
    showSaved(saved);
  } catch (error) {
    const field = error instanceof ApiError ? refusedField?.(error) : undefined;
    showFieldErrors([{ fieldId: field ?? fieldId, text: serverWords(error, 'Could not save') }]);
  }
}

const change = (body: PracticeSettingsChange) => () => client.change(body);

/** Wires a form's submit to `handler`, without the browser's own submission. */
function onSubmit(formId: string, handler: () => void): void {
  byId(formId).addEventListener('submit', (event) => {
    event.preventDefault();
    handler();
  });
}

const checked = (name: string) =>
  document.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value;
const value = (id: string) =>
  byId<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(id).value.trim();

onSubmit('nation-form', () => {
  const nation = checked('nation') as PracticeNation | undefined;
  void save(
    'The practice’s nation has been saved',
    'nation-title',
    change({ nation: nation! }),
    nation ? [] : [{ fieldId: 'nation-0', text: 'Choose the nation the practice is in' }],
  );
});

onSubmit('hours-form', () => {
  const draft = readHoursDraft();
  const { hours, errors } = openingHoursFrom(draft);
  void save(
    'Opening hours have been saved',
    'hours-title',
    change({ openingHours: hours }),
    errors,
    (error) => {
      // the server names the day it refuses ("Opening hours on tue: ..."): the error goes by that day
      const day = weekdays.find(({ day }) => error.message.includes(` on ${day}:`))?.day;
      return day && draft[day][0]?.from.id;
    },
  );
});

onSubmit('out-of-hours-form', () => {
  const outOfHours = checked('out-of-hours') as OutOfHours | undefined;
  void save(
    'The out of hours choice has been saved',
    'out-of-hours-title',
    change({ outOfHours: outOfHours! }),
    outOfHours ? [] : [{ fieldId: 'out-of-hours-0', text: 'Choose whether the form is open out of hours' }],
  );
});

onSubmit('response-form', () => {
  const message = value('response-message');
  const capacity = value('daily-capacity');
  const errors: FieldError[] = [];
  if (message.length > 300)
    errors.push({
      fieldId: 'response-message',
      text: 'The response time message must be 300 characters or fewer',
    });
  if (!/^\d{1,6}$/.test(capacity))
    errors.push({ fieldId: 'daily-capacity', text: 'Enter the number of requests a day, like 60' });
  void save(
    'The response time message has been saved',
    'response-title',
    change({ responseTimeMessage: message || null, dailyCapacity: Number(capacity) }),
    errors,
  );
});

onSubmit('targets-form', () => {
  const targets: Partial<ResponseTargets> = {};
  const errors: FieldError[] = [];
  for (const { priority, name } of targetPriorities) {
    const typed = value(`target-${priority}`);
    if (/^\d{1,5}$/.test(typed) && Number(typed) >= 1) targets[priority] = Number(typed);
    else errors.push({ fieldId: `target-${priority}`, text: `${name}: enter a number of minutes, like 60` });
  }
  void save(
    'Response targets have been saved',
    'targets-title',
    change({ responseTargets: targets }),
    errors,
  );
});

onSubmit('pause-form', () => {
  const zone = data?.settings.timezone ?? 'Europe/London';
  const reason = value('pause-reason');
  const until = fromWallClock(value('pause-until'), zone);
  const errors: FieldError[] = [];
  if (reason.length < 10)
    errors.push({
      fieldId: 'pause-reason',
      text: 'Say why you are pausing online requests, in at least 10 characters',
    });
  if (reason.length > 500)
    errors.push({ fieldId: 'pause-reason', text: 'The reason must be 500 characters or fewer' });
  if (!until) errors.push({ fieldId: 'pause-until', text: 'Enter the date and time the pause ends' });
  void save(
    `Online requests are paused until ${until ? practiceTime(until.toISOString(), zone) : ''}`,
    'pause-title',
    async () => {
      await client.pause({ reason, until: until!.toISOString() });
      byId<HTMLTextAreaElement>('pause-reason').value = '';
      byId<HTMLInputElement>('pause-until').value = '';
    },
    errors,
  );
});

function endPause(pause: { id: string }): void {
  void save('The pause has ended: patients can send online requests again', 'pause-title', () =>
    client.endPause(pause.id),
  );
}

// the report needs the session's token, which a plain link cannot carry: fetched, then saved
byId('pause-report').addEventListener('click', (event) => {
  event.preventDefault();
  client.pauseReport().then(
    (report) => {
      const url = URL.createObjectURL(report);
      const link = Object.assign(document.createElement('a'), {
        href: url,
        download: 'online-form-pauses.csv',
      });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    (error: unknown) =>
      showFieldErrors([
        { fieldId: 'pause-report', text: serverWords(error, 'Could not download the report') },
      ]),
  );
});

/** A change to the rules' list (move, remove), saved whole. */
function replaceRulesWith<Args extends unknown[]>(
  edit: (rules: NavigationRules, ...args: Args) => NavigationRules,
): (...args: Args) => void {
  return (...args) =>
    void save('Care navigation rules have been saved', 'navigation-title', () =>
      client.setNavigationRules(edit(data?.rules ?? [], ...args)),
    );
}

onSubmit('rule-form', () => {
  const rule: NavigationRule = { assignTo: value('rule-assign') };
  const kind = value('rule-kind');
  const slug = value('rule-form-slug');
  const priority = value('rule-priority');
  if (kind) rule.matchKind = kind as ConsultationKind;
  if (slug) rule.matchFormSlug = slug;
  if (priority) rule.setPriority = priority as ConsultationPriority;
  void save(
    'The rule has been added',
    'navigation-title',
    async () => {
      await client.setNavigationRules([...(data?.rules ?? []), rule]);
      byId<HTMLFormElement>('rule-form').reset();
    },
    rule.assignTo ? [] : [{ fieldId: 'rule-assign', text: 'Choose who the rule assigns requests to' }],
  );
});

for (const input of document.querySelectorAll('input[name="fhir-auth"]'))
  input.addEventListener('change', showAuthFields);

onSubmit('fhir-form', () => {
  const baseUrl = value('fhir-base-url');
  const type = checked('fhir-auth');
  const errors: FieldError[] = [];
  if (baseUrl && !/^https?:\/\/\S+$/.test(baseUrl))
    errors.push({ fieldId: 'fhir-base-url', text: 'Enter the FHIR base URL starting with https://' });
  let auth: FhirAuth | undefined;
  if (type === 'none') auth = { type };
  else if (type === 'bearer') {
    const token = byId<HTMLInputElement>('fhir-token').value;
    if (!token)
      errors.push({ fieldId: 'fhir-token', text: 'Enter the token (it is never shown once saved)' });
    auth = { type, token };
  } else if (type === 'client_credentials') {
    const tokenUrl = value('fhir-token-url');
    const clientId = value('fhir-client-id');
    const clientSecret = byId<HTMLInputElement>('fhir-client-secret').value;
    const scope = value('fhir-scope');
    if (!/^https?:\/\/\S+$/.test(tokenUrl))
      errors.push({ fieldId: 'fhir-token-url', text: 'Enter the token URL starting with https://' });
    if (!clientId) errors.push({ fieldId: 'fhir-client-id', text: 'Enter the client ID' });
    if (!clientSecret)
      errors.push({
        fieldId: 'fhir-client-secret',
        text: 'Enter the client secret (it is never shown once saved)',
      });
    auth = { type, tokenUrl, clientId, clientSecret, ...(scope ? { scope } : {}) };
  } else errors.push({ fieldId: 'fhir-auth-none', text: 'Choose how the service signs in to the GP record' });
  void save(
    'The GP record endpoint has been saved',
    'record-endpoint-title',
    change({ fhir: { baseUrl: baseUrl || null, auth: auth! } }),
    errors,
  );
});

for (const input of document.querySelectorAll('input[name="transport"]'))
  input.addEventListener('change', showTransportFields);

onSubmit('transport-form', () => {
  const transport = checked('transport');
  const recipientMailbox = value('mesh-mailbox');
  const routeByPatient = byId<HTMLInputElement>('mesh-route-by-patient').checked;
  const recipientOdsCode = value('recipient-ods').toUpperCase();
  const errors: FieldError[] = [];
  if (transport !== 'fhir-r4' && transport !== 'gp-connect-send-document')
    errors.push({ fieldId: 'transport-fhir', text: 'Choose how summaries are sent' });
  const sendDocument = transport === 'gp-connect-send-document';
  if (sendDocument && recipientMailbox && !/^[A-Za-z0-9]{1,20}$/.test(recipientMailbox))
    errors.push({ fieldId: 'mesh-mailbox', text: 'Enter the MESH mailbox ID: letters and digits only' });
  if (sendDocument && !recipientMailbox && !routeByPatient)
    errors.push({
      fieldId: 'mesh-mailbox',
      text: "Enter the GP system's MESH mailbox ID, or route by the patient",
    });
  if (sendDocument && recipientOdsCode && !/^[A-Z0-9]{3,10}$/.test(recipientOdsCode))
    errors.push({ fieldId: 'recipient-ods', text: 'Enter an ODS code such as A81001' });
  void save(
    'How summaries are sent has been saved',
    'record-transport-title',
    change({
      writeBack: {
        transport: sendDocument ? 'gp-connect-send-document' : 'fhir-r4',
        sendDocument: sendDocument
          ? {
              recipientMailbox: recipientMailbox || null,
              routeByPatient,
              recipientOdsCode: recipientOdsCode || null,
            }
          : { recipientMailbox: null, routeByPatient: false, recipientOdsCode: null },
      },
    }),
    errors,
  );
});

onSubmit('nhs-login-form', () => {
  const offered = byId<HTMLInputElement>('nhs-login-offered').checked;
  void save(
    offered ? 'The online form now offers NHS login' : 'The online form no longer offers NHS login',
    'nhs-login-title',
    change({ nhsLoginOffered: offered }),
  );
});

onSubmit('cis2-form', () => {
  const allowed = byId<HTMLInputElement>('cis2-sign-in-choice').checked;
  void save(
    allowed
      ? 'Staff can now sign in with NHS Care Identity'
      : 'Staff can no longer sign in with NHS Care Identity',
    'cis2-title',
    change({ cis2SignIn: allowed }),
  );
});

/** Saves the practice's websites as `origins` (the list is replaced whole), then runs `done`. */
function saveWebsites(saved: string, origins: string[], errors: FieldError[] = [], done = () => {}): void {
  const action = async () => {
    await client.change({ websiteOrigins: origins });
    done();
  };
  void save(saved, 'website-origin', action, errors);
}

function removeWebsite(origin: string): void {
  const origins = data?.settings.websiteOrigins ?? [];
  saveWebsites(
    `${origin} has been removed: the form no longer opens in its widget`,
    origins.filter((one) => one !== origin),
  );
}

onSubmit('websites-form', () => {
  const input = byId<HTMLInputElement>('website-origin');
  const origins = data?.settings.websiteOrigins ?? [];
  const typed = websiteOriginFrom(input.value);
  const errors: FieldError[] = [];
  if ('error' in typed) errors.push({ fieldId: 'website-origin', text: typed.error });
  else if (origins.includes(typed.origin))
    errors.push({ fieldId: 'website-origin', text: `${typed.origin} is already in the list` });
  const origin = 'origin' in typed ? typed.origin : '';
  saveWebsites(
    `${origin} has been added: the form now opens in its widget`,
    [...origins, origin],
    errors,
    () => (input.value = ''),
  );
});

onSubmit('mfa-policy-form', () => {
  const policy = readMfaPolicy();
  void save(mfaPolicySaved(policy), 'mfa-policy-title', () => client.changeMfaPolicy(policy));
});

wireSignIn(client.signInFlow, (session) => void enter(session.staff));

// a CIS2 sign-in coming back, or this tab's session
void resumeStaffSession(client, 'settings').then((staff) => (staff ? enter(staff) : show('sign-in')));
