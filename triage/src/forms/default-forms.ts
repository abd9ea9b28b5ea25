import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { selfCareExtension } from '@gpc/contracts';
import { redFlagExtensions } from './red-flags';

const call999 =
  'Call 999 now. These can be signs of a medical emergency. Do not wait for a reply from your GP surgery.';
// an urgent-level flag: the patient may still send the request, and it arrives marked urgent
const call111OrSurgery =
  'Call NHS 111 or your GP surgery now: this needs to be looked at today. If it is an emergency, call 999.';
const crisis =
  'Please get help now. Call 999 if you are in danger, or call NHS 111 and choose the mental health option. You can also call Samaritans free on 116 123.';

// emergency (999: the form stops) unless said to be urgent (111 or the surgery now: may still be sent)
const redFlag = (advice: string, level: 'emergency' | 'urgent' = 'emergency') =>
  redFlagExtensions(advice, level);

// the online form finds the advice by the contract's own extension, so triage writes it with the contract's builder
const selfCare = (advice: string, link: string) => selfCareExtension({ advice, link });

const yesNoFlag = (linkId: string, text: string, advice: string): QuestionnaireItem => ({
  linkId,
  text,
  type: 'boolean',
  required: true,
  extension: redFlag(advice),
});

/** The medical request form: urgent symptoms first, so nobody waits on a form who should call 999. */
const medical: Questionnaire = {
  resourceType: 'Questionnaire',
  url: 'https://gp-consult.example/fhir/Questionnaire/medical',
  name: 'MedicalRequest',
  title: 'Ask about a health problem',
  status: 'active',
  item: [
    yesNoFlag(
      'chest-pain',
      'Do you have chest pain, or pain that spreads to your arms, neck, jaw or back?',
      call999,
    ),
    yesNoFlag(
      'breathing',
      'Are you struggling to breathe, or so breathless you cannot speak in full sentences?',
      call999,
    ),
    yesNoFlag(
      'stroke',
      'Has your face dropped on one side, can you not lift both arms, or is your speech slurred?',
      `${call999} These can be signs of a stroke.`,
    ),
    yesNoFlag('suicidal', 'Are you having thoughts of ending your life or harming yourself?', crisis),
    {
      linkId: 'topic',
      text: 'What is it mainly about?',
      type: 'choice',
      required: true,
      answerOption: [
        {
          valueCoding: { code: 'cold-flu', display: 'Cold, flu or COVID-19 symptoms' },
          extension: selfCare(
            'Most colds and flu get better on their own within 1 to 2 weeks with rest, fluids and painkillers.',
            'https://www.nhs.uk/conditions/common-cold/',
          ),
        },
        {
          valueCoding: { code: 'sore-throat', display: 'A sore throat' },
          extension: selfCare(
            'Sore throats usually get better by themselves within a week; a pharmacist can help.',
            'https://www.nhs.uk/conditions/sore-throat/',
          ),
        },
        { valueCoding: { code: 'other', display: 'Something else' } },
      ],
    },
    { linkId: 'problem', text: 'What is the problem?', type: 'text', required: true, maxLength: 2000 },
    {
      linkId: 'duration',
      text: 'How long have you had it?',
      type: 'choice',
      required: true,
      answerOption: [
        { valueCoding: { code: 'days', display: 'Less than a week' } },
        { valueCoding: { code: 'weeks', display: '1 to 4 weeks' } },
        { valueCoding: { code: 'months', display: 'More than a month' } },
      ],
    },
    {
      linkId: 'getting-worse',
      text: 'Is it getting worse quickly?',
      type: 'choice',
      required: true,
      answerOption: [
        { valueCoding: { code: 'no', display: 'No' } },
        {
          valueCoding: { code: 'yes', display: 'Yes, it is getting worse quickly' },
          extension: redFlag(call111OrSurgery, 'urgent'),
        },
      ],
    },
    { linkId: 'tried', text: 'What have you tried so far? (optional)', type: 'text', maxLength: 1000 },
  ],
};

const adminForm = (slug: string, title: string, question: string): Questionnaire => ({
  resourceType: 'Questionnaire',
  url: `https://gp-consult.example/fhir/Questionnaire/admin-${slug}`,
  name: `Admin${slug.replace(/(^|-)(\w)/g, (_m: string, _dash: string, letter: string) => letter.toUpperCase())}`,
  title,
  status: 'active',
  item: [{ linkId: 'details', text: question, type: 'text', required: true, maxLength: 2000 }],
});

/** The forms every practice starts with; a practice may change its own copies. */
export const defaultForms: { slug: string; kind: 'medical' | 'admin'; resource: Questionnaire }[] = [
  { slug: 'medical', kind: 'medical', resource: medical },
  {
    slug: 'fit-note',
    kind: 'admin',
    resource: adminForm(
      'fit-note',
      'Fit note (sick note)',
      'What do you need a fit note for, and from when?',
    ),
  },
  {
    slug: 'repeat-prescription',
    kind: 'admin',
    resource: adminForm(
      'repeat-prescription',
      'Question about a repeat prescription',
      'Which medicine is it about, and what is your question?',
    ),
  },
  {
    slug: 'test-results',
    kind: 'admin',
    resource: adminForm(
      'test-results',
      'Test results',
      'Which test was it, and roughly when did you have it?',
    ),
  },
  {
    slug: 'letter',
    kind: 'admin',
    resource: adminForm(
      'letter',
      'Letter from the surgery',
      'What is the letter for, and who is it addressed to?',
    ),
  },
  {
    slug: 'referral',
    kind: 'admin',
    resource: adminForm(
      'referral',
      'Question about a referral',
      'Which referral is it about, and what is your question?',
    ),
  },
  {
    slug: 'update-details',
    kind: 'admin',
    resource: adminForm(
      'update-details',
      'Update my contact details',
      'What has changed? For example a new address, phone number or email.',
    ),
  },
  {
    slug: 'something-else',
    kind: 'admin',
    resource: adminForm('something-else', 'Something else', 'How can we help?'),
  },
];
