// FHIR STU3 as ITK3 messages carry it: only the shapes this module builds and reads. Resources are
// open records (the STU3 JSON Schema and `validate.ts` check them, not these types).

export interface Stu3Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface Stu3Reference {
  reference?: string;
  display?: string;
}

export interface Stu3Identifier {
  system?: string;
  value?: string;
}

export interface Stu3Resource {
  resourceType: string;
  id?: string;
  meta?: { profile?: string[]; lastUpdated?: string };
  [element: string]: unknown;
}

export interface Stu3BundleEntry {
  fullUrl?: string;
  resource?: Stu3Resource;
}

export interface Stu3Bundle extends Stu3Resource {
  resourceType: 'Bundle';
  identifier?: Stu3Identifier;
  type: 'message' | 'document' | 'collection';
  entry?: Stu3BundleEntry[];
}
