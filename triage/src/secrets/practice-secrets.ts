import { AppError, type PracticeSettingsChange } from '@gpc/contracts';
import {
  openPracticeSecrets,
  sealPracticeSecrets,
  SecretUnreadable,
  type SecretKeyring,
} from '@gpc/contracts/secrets';

/**
 * A settings change as it is stored: the FHIR client secret or bearer token, the Notify API key and
 * the SMTP password encrypted for this practice (see `@gpc/contracts/secrets`); the rest as given.
 */
export function sealSettingsChange(
  secrets: SecretKeyring | undefined,
  practiceId: string,
  change: PracticeSettingsChange,
): PracticeSettingsChange {
  try {
    return {
      ...change,
      ...(change.fhir
        ? {
            fhir: {
              ...change.fhir,
              auth: sealPracticeSecrets(secrets, practiceId, 'fhir_auth', change.fhir.auth),
            },
          }
        : {}),
      ...(change.notifications
        ? {
            notifications: sealPracticeSecrets(
              secrets,
              practiceId,
              'notification_settings',
              change.notifications,
            ),
          }
        : {}),
    };
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw secrets
      ? new AppError('badRequest', error.message)
      : new AppError('unavailable', 'Credentials cannot be stored: this service has no secrets key set up');
  }
}

/**
 * A practice's stored notification settings with their credential decrypted, for sending; throws
 * `SecretUnreadable` (saying why, never the value) when it cannot be used.
 */
export const openNotificationSettings = (
  secrets: SecretKeyring | undefined,
  practiceId: string,
  stored: unknown,
): unknown => openPracticeSecrets(secrets, practiceId, 'notification_settings', stored);
