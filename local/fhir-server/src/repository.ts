import {
  getStatus,
  allOk,
  created,
  multipleMatches,
  Operator,
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
import type { Identifier, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { requiredCodeIssues } from './terminology';

const identifierKey = (resourceType: string, system: string, value: string) =>
  `${resourceType}|${system}|${value}`;

/** A resource's identifiers, whether it has none, one (e.g. Composition) or a list. */
function identifiersOf(resource: Resource): Identifier[] {
  const identifier = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  return identifier === undefined ? [] : Array.isArray(identifier) ? identifier : [identifier];
}

type JournalEntry = { undo: 'remove' | 'restore'; resource: WithId<Resource> };

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
  /** Set while a transaction runs: how to undo each change it made, oldest first. */
  private journal: JournalEntry[] | undefined;
  /** While putting saved resources back (data file, rollback): they keep their ids. */
  private restoring = false;

  /**
   * `Type|system|value` → ids, for conditional creates (`ifNoneExist: identifier=system|value`).
   * MemoryRepository answers them by evaluating the R4 `identifier` search expression (a union
   * over every resource type) on every stored resource, which makes each create slower than the
   * last. Entries are only ever added; a lookup checks the resource still carries the identifier.
   */
  private readonly identifierIndex = new Map<string, Set<string>>();

  constructor(private readonly onChange: () => void = () => undefined) {
    super();
  }

  override async searchResources<T extends Resource>(request: SearchRequest<T>): Promise<WithId<T>[]> {
    return (await this.findByIdentifier(request)) ?? super.searchResources(request);
  }

  /** Answers a search by one `identifier=system|value` from the index; undefined for any other search. */
  private async findByIdentifier<T extends Resource>(
    request: SearchRequest<T>,
  ): Promise<WithId<T>[] | undefined> {
    const filter = request.filters?.length === 1 ? request.filters[0] : undefined;
    const [system, value, ...rest] = filter?.value.split('|') ?? [];
    const simple =
      filter?.code === 'identifier' &&
      filter.operator === Operator.EQUALS &&
      system &&
      value &&
      rest.length === 0 &&
      !request.include &&
      !request.revInclude &&
      !request.fields;
    if (!simple) return undefined;
    const found: WithId<T>[] = [];
    for (const id of this.identifierIndex.get(identifierKey(request.resourceType, system, value)) ?? []) {
      const resource = (await this.current(request.resourceType, id)) as WithId<T> | undefined;
      if (resource && identifiersOf(resource).some((i) => i.system === system && i.value === value)) {
        found.push(resource);
      }
    }
    return found;
  }

  override async createResource<T extends Resource>(
    resource: T,
    options?: CreateResourceOptions,
    update = false,
  ): Promise<WithId<T>> {
    // `update` is how MemoryRepository.updateResource (and so patch) stores a new version
    const keepId = update || this.restoring || Boolean(options?.assignedId);
    const checked = this.checked(resource, keepId);
    const previous = update && checked.id ? await this.current(checked.resourceType, checked.id) : undefined;
    const stored = await super.createResource(checked, options, update);
    this.journal?.push(
      previous ? { undo: 'restore', resource: previous } : { undo: 'remove', resource: stored },
    );
    this.stored(stored);
    return stored;
  }

  // MemoryRepository's conditional create stores without going through createResource
  override async conditionalCreate<T extends Resource>(
    resource: T,
    search: SearchRequest<T>,
    options?: CreateResourceOptions,
  ): Promise<{ resource: WithId<T>; outcome: OperationOutcome }> {
    const existing = await this.findByIdentifier(search);
    if (existing) {
      if (existing.length > 1) throw new OperationOutcomeError(multipleMatches);
      if (existing[0]) return { resource: existing[0], outcome: allOk };
      return { resource: await this.createResource(resource, options), outcome: created };
    }
    const result = await super.conditionalCreate(
      this.checked(resource, Boolean(options?.assignedId)),
      search,
      options,
    );
    if (getStatus(result.outcome) === 201) {
      this.journal?.push({ undo: 'remove', resource: result.resource });
      this.stored(result.resource);
    }
    return result;
  }

  override async deleteResource(
    resourceType: string,
    id: string,
    options?: DeleteResourceOptions,
  ): Promise<void> {
    const previous = await this.current(resourceType, id);
    await super.deleteResource(resourceType, id, options);
    if (previous) this.journal?.push({ undo: 'restore', resource: previous });
    this.onChange();
  }

  override async expungeResources(resourceType: string, ids: string[]): Promise<void> {
    await super.expungeResources(resourceType, ids);
    this.onChange();
  }

  /**
   * All or nothing: on failure each change is undone, newest first (version history excepted).
   * A journal rather than a snapshot, so a transaction costs what it changes, not what is stored.
   */
  override async withTransaction<TResult>(callback: (repo: this) => Promise<TResult>): Promise<TResult> {
    // nested (e.g. a conditional update inside a transaction Bundle): the outer one owns the rollback
    if (this.journal) return callback(this);
    const journal: JournalEntry[] = [];
    this.journal = journal;
    try {
      return await callback(this);
    } catch (error) {
      this.journal = undefined;
      await this.undo(journal);
      throw error;
    } finally {
      this.journal = undefined;
    }
  }

  private async undo(journal: JournalEntry[]): Promise<void> {
    for (const entry of [...journal].reverse()) {
      const { resourceType, id } = entry.resource;
      await super.expungeResources(resourceType, [id]);
      if (entry.undo === 'restore') {
        this.restoring = true;
        try {
          this.stored(await this.withSeeding(() => super.createResource(entry.resource)));
        } finally {
          this.restoring = false;
        }
      }
    }
    this.onChange();
  }

  private async current(resourceType: string, id: string): Promise<WithId<Resource> | undefined> {
    try {
      return await this.readResource(resourceType, id);
    } catch {
      return undefined; // not there (or deleted): nothing to restore
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

  private stored(resource: WithId<Resource>): void {
    for (const identifier of identifiersOf(resource)) {
      if (!identifier.system || !identifier.value) continue;
      const key = identifierKey(resource.resourceType, identifier.system, identifier.value);
      const ids = this.identifierIndex.get(key) ?? new Set<string>();
      ids.add(resource.id);
      this.identifierIndex.set(key, ids);
    }
    this.storedTypes.add(resource.resourceType);
    this.onChange();
  }
}
