import Queue from 'bull';
import { QueueNames, writeBackJobId, type WriteBackJob } from '@gpc/contracts';

export type WriteBackQueue = Queue.Queue<WriteBackJob>;

export function createWriteBackQueue(redisUrl: string, prefix = 'gpc'): WriteBackQueue {
  return new Queue<WriteBackJob>(QueueNames.writeBack, redisUrl, { prefix });
}

/** Enqueues a consultation's write-back once: the job id is derived from the consultation. */
export async function enqueueWriteBack(queue: WriteBackQueue, consultationId: string): Promise<void> {
  await queue.add(
    { consultationId },
    { jobId: writeBackJobId(consultationId), removeOnComplete: false, removeOnFail: false },
  );
}
