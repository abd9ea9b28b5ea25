/**
 * The urgent screen a patient's reply goes through, as the online form's red-flag questions do
 * (red-flags.ts): nobody reads a reply at once, so a patient who needs help now is stopped and told
 * where to get it, and the reply is not sent. One copy of the words for the thread page and triage.
 * Imports nothing: the page takes this file through its own subpath, `@gpc/contracts/forms/reply-urgency`.
 */

/** The question asked before every reply. */
export const replyUrgentQuestion = 'Is this urgent?';

/** Under the question: what counts as urgent, and that replies are not read straight away. */
export const replyUrgentHint =
  'For example chest pain, struggling to breathe, signs of a stroke, or thoughts of harming yourself. Your GP surgery does not read replies straight away.';

/** What a patient who answers yes is told instead of sending (the form's 999 and NHS 111 advice). */
export const replyUrgentAdvice =
  'Do not wait for a reply from your GP surgery. Call 999 now if it is an emergency, for example chest pain, struggling to breathe or signs of a stroke. For other urgent help, call NHS 111 or go to 111.nhs.uk, or call your GP surgery.';
