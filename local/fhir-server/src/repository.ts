import {
  getStatus,
  OperationOutcomeError,
  validateResource,
  type SearchRequest,
  type TypedValueWithPath,
  type WithId,
} from '@medplum/core';
import {
  MemoryRepository,
  type CreateResourceOptions,
  type DeleteResourceOptions,
} from '@medplum/fhir-router';
import type { OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { requiredCodeIssues } from './terminology';

/**
 * Medplum's MemoryRepository plus what a real FHIR server does and MemoryRepository does not:
 * - validates every resource it stores against the R4 definitions, codes with a required binding
 *   included (MemoryRepository stores anything);
 * - ignores an `id` sent with a create, as FHIR requires (MemoryRepository would keep it);
 * - rolls a failed transaction back (its `withTransaction` just runs the callback);
 * - reports every change, so the caller can save to disk.
 *
 * Not safe for interleaved async callers: the app runs one request at a time against it.
 */
export class LocalFhirRepository extends MemoryRepository {
  /** Types ever stored: MemoryRepository cannot list everything it holds, only search one type. */
  private readonly storedTypes = new Set<ResourceType>();
  private inTransaction = false;
  /** While putting saved resources back (data file, rollback): they keep their ids. */
  private restoring = false;

  constructor(private readonly onChange: () => void = () => undefined) {
    super();
  }

  override async createResource<T extends Resource>(
    resource: T,
    options?: CreateResourceOptions,
    update = false,
  ): Promise<WithId<T>> {
    // `update` is how MemoryRepository.updateResource (and so patch) stores a new version
    const keepId = update || this.restoring || Boolean(options?.assignedId);
    const stored = await super.createResource(this.checked(resource, keepId), options, update);
    this.stored(stored);
    return stored;
  }

  // MemoryRepository's conditional create stores without going through createResource
  override async conditionalCreate<T extends Resource>(
    resource: T,
    search: SearchRequest<T>,
    options?: CreateResourceOptions,
  ): Promise<{ resource: WithId<T>; outcome: OperationOutcome }> {
    const result = await super.conditionalCreate(
      this.checked(resource, Boolean(options?.assignedId)),
      search,
      options,
    );
    if (getStatus(result.outcome) === 201) this.stored(result.resource);
    return result;
  }

  override async deleteResource(
    resourceType: string,
    id: string,
    options?: DeleteResourceOptions,
  ): Promise<void> {
    await super.deleteResource(resourceType, id, options);
    this.onChange();
  }

  override async expungeResources(resourceType: string, ids: string[]): Promise<void> {
    await super.expungeResources(resourceType, ids);
    this.onChange();
  }

  /** All or nothing: on failure the repository goes back to how it was (version history excepted). */
  override async withTransaction<TResult>(callback: (repo: this) => Promise<TResult>): Promise<TResult> {
    // nested (e.g. a conditional update inside a transaction Bundle): the outer one owns the rollback
    if (this.inTransaction) return callback(this);
    const before = await this.exportResources();
    this.inTransaction = true;
    try {
      return await callback(this);
    } catch (error) {
      await this.replaceAll(before);
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  /** The current version of every resource held. */
  async exportResources(): Promise<WithId<Resource>[]> {
    const resources: WithId<Resource>[] = [];
    for (const resourceType of this.storedTypes) {
      // no `_count`: MemoryRepository then returns every match
      const bundle = await this.search({ resourceType });
      for (const entry of bundle.entry ?? []) if (entry.resource) resources.push(entry.resource);
    }
    return resources;
  }

  /** Stores resources as they are, keeping ids, versionIds and lastUpdated; each is still validated. */
  async importResources(resources: readonly Resource[]): Promise<void> {
    this.restoring = true;
    try {
      await this.withSeeding(async () => {
        for (const resource of resources) await this.createResource(resource);
      });
    } finally {
      this.restoring = false;
    }
  }

  private async replaceAll(resources: readonly Resource[]): Promise<void> {
    this.clear();
    await this.importResources(resources);
    this.onChange();
  }

  /** Throws an OperationOutcomeError (400, with the problems) if the resource is not valid R4. */
  private checked<T extends Resource>(resource: T, keepId: boolean): T {
    let candidate = resource;
    if (!keepId && resource.id !== undefined) {
      const { id: _ignoredClientId, ...withoutId } = resource;
      candidate = withoutId as T;
    }
    const tokens: Record<string, TypedValueWithPath[]> = {};
    validateResource(candidate, { collect: { tokens } }); // throws on structural problems
    const codeIssues = requiredCodeIssues(tokens);
    if (codeIssues.length > 0)
      throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: codeIssues });
    return candidate;
  }

  private stored(resource: Resource): void {
    this.storedTypes.add(resource.resourceType);
    this.onChange();
  }
}
