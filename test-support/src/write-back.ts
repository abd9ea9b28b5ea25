import { enqueueWriteBack, requeueWriteBack, type WriteBackQueue } from '@gpc/record';
import type { WriteBackQueueing } from '@gpc/triage';

/** For tests that never close a request into the GP record. */
export const noWriteBacks: WriteBackQueueing = {
  queue: () => Promise.resolve(),
  requeue: () => Promise.resolve(),
};

/** The real queueing, onto a test's own bull queue. */
export const writeBacksTo = (queue: WriteBackQueue): WriteBackQueueing => ({
  queue: (job) => enqueueWriteBack(queue, job),
  requeue: async (job) => {
    await requeueWriteBack(queue, job);
  },
});
