import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf } from '../schema';
import { StaffRole } from '../call/tokens';
import { FhirAuthSchema } from '../fhir-auth';
import { BankHolidayDataStatus, OutOfHours, PracticeNation, ResponseTimeMessage } from './hours';
import { WriteBackTransportSchema } from './write-backs';

/** A MESH mailbox id, e.g. A81001OT001 (letters and digits). */
const MeshMailboxId = Type.String({ pattern: '^[A-Za-z0-9]{1,20}$' });
/** An ODS code, upper case, e.g. A81001. */
const OdsCode = Type.String({ pattern: '^[A-Z0-9]{3,10}$' });

/**
 * How the practice's summaries reach its GP system: `fhir-r4` (the FHIR endpoint below) or
 * `gp-connect-send-document` (an ITK3 message over MESH from the service's mailbox to the GP
 * system's: its mailbox id, or MESH's routing to the patient's registered practice by
 * `GPPROVIDER_<NHS number>_<DDMMYYYY>_<SURNAME>`). Applies to requests closed from then on.
 */
export const WriteBackSettings = Type.Object(
  {
    transport: WriteBackTransportSchema,
    sendDocument: Type.Object(
      {
        /** The GP system's MESH mailbox (mex-to); needed unless routed by the patient. */
        recipientMailbox: Nullable(MeshMailboxId),
        /** Route by NHS number, date of birth and surname to the patient's registered practice. */
        routeByPatient: Type.Boolean(),
        /** The receiving organisation's ODS code; null: the practice's own. */
        recipientOdsCode: Nullable(OdsCode),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type WriteBackSettings = Static<typeof WriteBackSettings>;

const Time = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$' });
const Day = Type.Array(Type.Tuple([Time, Time]), { maxItems: 6 });

/** When the practice takes online requests: per weekday, periods from "HH:MM" to "HH:MM" in its time zone. */
export const OpeningHoursSchema = Type.Object(
  {
    mon: Type.Optional(Day),
    tue: Type.Optional(Day),
    wed: Type.Optional(Day),
    thu: Type.Optional(Day),
    fri: Type.Optional(Day),
    sat: Type.Optional(Day),
    sun: Type.Optional(Day),
  },
  { additionalProperties: false },
);
export type OpeningHoursSettings = Static<typeof OpeningHoursSchema>;

/** A practice's own mail relay (NHSmail, or the practice's provider). Email only. */
export const SmtpSettings = Type.Object(
  {
    provider: Type.Literal('smtp'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** TLS from the start (465); otherwise STARTTLS is used when the relay offers it. */
    secure: Type.Boolean(),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** e.g. "Riverside Surgery <riverside.surgery@nhs.net>" */
    from: Type.String({ minLength: 3 }),
  },
  { additionalProperties: false },
);
export type SmtpSettings = Static<typeof SmtpSettings>;

// a pattern, not `format: 'uuid'`: the compiled checker knows no formats unless they are registered
const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** GOV.UK Notify: email and text messages, with delivery receipts. */
export const NotifySettings = Type.Object(
  {
    provider: Type.Literal('govuk-notify'),
    apiKey: Type.String({ minLength: 74 }),
    /** Templates with the placeholders ((practice)), ((reference)) and ((link)). */
    emailTemplateId: Type.String({ pattern: uuidPattern }),
    smsTemplateId: Type.String({ pattern: uuidPattern }),
    /** Notify's API; set only to point at a stand-in. */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  },
  { additionalProperties: false },
);
export type NotifySettings = Static<typeof NotifySettings>;

/** How links reach the practice's patients (`practice.notification_settings`). */
export const NotificationSettings = Type.Union([SmtpSettings, NotifySettings]);
export type NotificationSettings = Static<typeof NotificationSettings>;

const TargetMinutes = Type.Integer({ minimum: 1, maximum: 43_200 });

/**
 * How long a request may wait for its first action, per priority, in minutes by the clock (nights
 * and weekends count). A request not actioned by then (no staff message to the patient, not closed)
 * is flagged overdue in the queue and counted. Defaults: urgent 60, soon 240, routine 2880 (2 days).
 */
export const ResponseTargets = Type.Object(
  { urgent: TargetMinutes, soon: TargetMinutes, routine: TargetMinutes },
  { additionalProperties: false },
);
export type ResponseTargets = Static<typeof ResponseTargets>;

/**
 * The origin of one of the practice's own websites, where the widget opens the form:
 * `https://host[:port]`, as a browser writes an origin (lower case, no path, no default port; the
 * server checks it is exactly `new URL(it).origin`). Plain http only for this machine, in development.
 */
export const WebsiteOrigin = Type.String({
  maxLength: 200,
  pattern:
    '^(https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?|http://(localhost|127\\.0\\.0\\.1|\\[::1\\]))(:[0-9]{1,5})?$',
});

/** `GET /practice`: what staff see of the practice's settings: never a secret, only whether one is set. */
export const PracticeSettingsView = Type.Object({
  odsCode: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  openingHours: OpeningHoursSchema,
  dailyCapacity: Type.Integer(),
  /** Core hours apply in England (see `./hours.ts`). */
  nation: PracticeNation,
  outOfHours: OutOfHours,
  responseTimeMessage: Nullable(Type.String()),
  bankHolidays: BankHolidayDataStatus,
  responseTargets: ResponseTargets,
  /** The form offers "Continue with NHS login" (when the service is set up for NHS login). */
  nhsLoginOffered: Type.Boolean(),
  /** Staff may sign in with NHS CIS2 (when the service is set up for it). */
  cis2SignIn: Type.Optional(Type.Boolean()),
  /** The practice's own websites, where the widget may open the form (frame-ancestors, postMessage). */
  websiteOrigins: Type.Array(Type.String()),
  fhir: Type.Object({
    baseUrl: Nullable(Type.String()),
    authType: Type.String(),
  }),
  /** How summaries reach the GP system (FHIR R4 above, or GP Connect Send Document over MESH). */
  writeBack: Type.Optional(WriteBackSettings),
  notifications: Type.Union([
    Type.Null(),
    Type.Object({
      provider: Type.String(),
      /** The sender (SMTP) or the service's templates (Notify); credentials are never shown. */
      from: Type.Optional(Type.String()),
      host: Type.Optional(Type.String()),
      emailTemplateId: Type.Optional(Type.String()),
      smsTemplateId: Type.Optional(Type.String()),
    }),
  ]),
});
export type PracticeSettingsView = Static<typeof PracticeSettingsView>;

/** `PATCH /practice`: the settings to change; those left out stay as they are. */
export const PracticeSettingsChange = Type.Object(
  {
    openingHours: Type.Optional(OpeningHoursSchema),
    dailyCapacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    nation: Type.Optional(PracticeNation),
    outOfHours: Type.Optional(OutOfHours),
    /** null: the service's own words. */
    responseTimeMessage: Type.Optional(Nullable(ResponseTimeMessage)),
    /** Response targets to change, per priority; those left out stay as they are. */
    responseTargets: Type.Optional(Type.Partial(ResponseTargets, { minProperties: 1 })),
    nhsLoginOffered: Type.Optional(Type.Boolean()),
    /** Lets (or stops letting) the practice's staff sign in with NHS CIS2. */
    cis2SignIn: Type.Optional(Type.Boolean()),
    /** Replaces the list whole; [] stops the form opening in any website's widget. */
    websiteOrigins: Type.Optional(Type.Array(WebsiteOrigin, { maxItems: 20, uniqueItems: true })),
    fhir: Type.Optional(
      Type.Object(
        {
          baseUrl: Nullable(Type.String({ pattern: '^https?://', maxLength: 500 })),
          auth: FhirAuthSchema,
        },
        { additionalProperties: false },
      ),
    ),
    /** Replaces the provider settings whole (with their credentials); null: staff send links themselves. */
    notifications: Type.Optional(Nullable(NotificationSettings)),
    /** Replaces the transport settings whole; Send Document needs a mailbox or routing by the patient. */
    writeBack: Type.Optional(WriteBackSettings),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PracticeSettingsChange = Static<typeof PracticeSettingsChange>;

/** A member of the practice's staff, as its admins see them. */
export const StaffMemberView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** Empty for staff who sign in with NHS CIS2: CIS2 gives no email address here. */
  email: Type.String(),
  name: Type.String(),
  role: StaffRole,
  active: Type.Boolean(),
  /**
   * How they sign in: `cis2` staff have no password here (none can be reset or set), and their role
   * is refreshed from their national RBAC roles at each sign-in.
   */
  signInMethod: Type.Optional(OneOf(['password', 'cis2'])),
});
export type StaffMemberView = Static<typeof StaffMemberView>;

const StaffName = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });

/** `POST /staff`: an admin adds a member of staff. */
export const NewStaffMember = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: StaffName,
    role: StaffRole,
    /** The first password, given to them in person; at least 12 characters. */
    password: Type.String({ minLength: 12, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type NewStaffMember = Static<typeof NewStaffMember>;

/** `PATCH /staff/:id`: a new name or role, or access stopped. */
export const StaffMemberChange = Type.Object(
  {
    name: Type.Optional(StaffName),
    role: Type.Optional(StaffRole),
    /** false: they can no longer sign in, and their sessions end. */
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type StaffMemberChange = Static<typeof StaffMemberChange>;
