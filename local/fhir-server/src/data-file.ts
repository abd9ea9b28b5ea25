import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isResource } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';

/**
 * Keeps the server's resources in a JSON file (a FHIR `collection` Bundle, readable and hand-editable)
 * so a developer's data survives restarts. Writes are debounced (longer as the store grows), and
 * atomic: a temporary file is renamed over the old one, so a crash mid-write never leaves half a file.
 */
export class DataFile {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** Writes run one after another so two never share the temporary file; never rejects. */
  private writing: Promise<void> = Promise.resolve();
  /** How long the last write took: the whole store is written each time, so it grows with the data. */
  private lastWriteMs = 0;

  constructor(
    readonly filePath: string,
    /** Reads what to save; called when a write starts, so it always saves the latest state. */
    private readonly snapshot: () => Promise<Resource[]>,
    private readonly logger: Logger,
    private readonly saveDelayMs: number,
  ) {}

  /** The resources saved last time; none if the file does not exist yet. */
  async load(): Promise<Resource[]> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('it is not valid JSON');
    }
    if (!isResource<Bundle>(parsed, 'Bundle')) {
      throw new Error('it is not a FHIR Bundle');
    }
    return (parsed.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
  }

  /** Something changed: write soon, once for a burst of changes. */
  scheduleSave(): void {
    this.dirty = true;
    if (this.timer) return;
    // the whole store is written each time: under steady writes, spend at most about a tenth of the time saving
    const delayMs = Math.max(this.saveDelayMs, this.lastWriteMs * 10);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => {
        // only the file and the error: the resources themselves are patient data
        this.logger.error(
          { file: this.filePath, error: (error as Error).message },
          'cannot save FHIR data file',
        );
      });
    }, delayMs);
    // a pending save must not keep the process alive; shutdown flushes explicitly
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // queued behind any write in flight, which may have started before the latest change
    const write = this.writing.then(() => this.write());
    this.writing = write.catch(() => undefined);
    await write;
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const started = performance.now();
    try {
      const resources = await this.snapshot();
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: resources.map((resource) => ({ resource })),
      };
      await mkdir(path.dirname(this.filePath), { recursive: true });
      const temporary = `${this.filePath}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(bundle, null, 2)}\n`);
      await rename(temporary, this.filePath);
      this.lastWriteMs = performance.now() - started;
    } catch (error) {
      this.dirty = true; // try again with the next change or at shutdown
      throw error;
    }
  }
}
