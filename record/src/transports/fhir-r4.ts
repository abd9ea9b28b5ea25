// FHIR R4: the summary as a transaction Bundle posted to the practice's FHIR endpoint, filed exactly
// once (conditional creates); filed when the GP system answers.
import type pg from 'pg';
import { parseFhirAuth } from '@gpc/contracts';
import { buildWriteBackBundle } from '../fhir/bundle';
import type { FhirClient } from '../fhir/client';
import { findBundleProblems } from '../fhir/validate';
import { PermanentFailure } from '../filing/errors';
import { markFiled } from '../write-back';
import type { FilingTransport } from './index';

export function createFhirR4Transport(deps: { pool: pg.Pool; fhir: FhirClient }): FilingTransport {
  return {
    async file(job, { data, target }, log) {
      if (!target.fhirBaseUrl) throw new PermanentFailure('the practice has no FHIR endpoint set up');
      const auth = parseFhirAuth(target.fhirAuth);
      if (!auth) throw new PermanentFailure("the practice's FHIR authentication settings are not valid");
      const bundle = buildWriteBackBundle(data);
      const problems = findBundleProblems(bundle);
      if (problems) throw new PermanentFailure(`the summary does not make a valid FHIR bundle: ${problems}`);
      const filed = await deps.fhir.postTransaction(
        { practiceId: job.practiceId, baseUrl: target.fhirBaseUrl, auth },
        bundle,
      );
      await markFiled(deps.pool, job.consultationId, {
        transport: 'fhir-r4',
        serverLocations: filed.locations,
      });
      log.info({ alreadyFiled: filed.alreadyFiled }, 'write-back filed');
      return { outcome: 'filed', ...filed };
    },
  };
}
