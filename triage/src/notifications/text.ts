/**
 * What a patient receives: who it is from, which request, and the link. Nothing clinical: a text
 * or email can be read by whoever holds the phone or the inbox, and the thread itself asks for the
 * patient's date of birth.
 */
export interface NotificationContent {
  practiceName: string;
  reference: string;
  link: string;
}

export const emailSubject = (content: NotificationContent) =>
  `${content.practiceName}: a message about your request ${content.reference}`;

export const emailBody = (content: NotificationContent) =>
  [
    `${content.practiceName} has sent you a message about your request ${content.reference}.`,
    '',
    'Read it and reply here (you will be asked for your date of birth):',
    content.link,
    '',
    'The link works for 14 days. If you did not contact your GP surgery, you can ignore this email.',
    'If you need help urgently, call 111, or 999 in an emergency.',
  ].join('\n');
