import { AppError, type PracticeSettingsChange } from '@gpc/contracts';
import {
  checkHostName,
  checkOutboundUrl,
  describeRefusal,
  findRefusal,
  type OutboundPolicy,
  type OutboundRefused,
} from '@gpc/outbound';

/**
 * The places a settings change names (the GP system and its token endpoint, GOV.UK Notify, the
 * SMTP relay), checked by the outbound guard before they are stored: a refused address, plain http
 * or `localhost` is a 400 that says which and why. Names are checked again, resolved, at every
 * connection; this is the early, clear answer to the admin who typed it.
 */
export function checkDestinations(change: PracticeSettingsChange, outbound: OutboundPolicy): void {
  const url = (place: string, value: string) => {
    try {
      checkOutboundUrl(value, outbound);
    } catch (error) {
      refuse(place, findRefusal(error), error);
    }
  };
  if (change.fhir?.baseUrl) url("the GP system's address", change.fhir.baseUrl);
  if (change.fhir?.auth.type === 'client_credentials') {
    url("the GP system's token endpoint", change.fhir.auth.tokenUrl);
  }
  const notifications = change.notifications;
  if (notifications?.provider === 'govuk-notify' && notifications.baseUrl) {
    url('the GOV.UK Notify address', notifications.baseUrl);
  }
  if (notifications?.provider === 'smtp') {
    const refused = checkHostName(notifications.host, outbound, false);
    if (refused) refuse("the mail relay's address", refused);
  }
}

function refuse(place: string, refusal: OutboundRefused | undefined, error?: unknown): never {
  if (!refusal) throw error;
  throw new AppError('badRequest', describeRefusal(place, refusal));
}
