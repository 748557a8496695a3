// The control plane's worker thread (prepare.ts starts it): parses config
// files and control requests so that the forwarding thread does not. Each
// chunk of a result is its own message (prepare-core.ts: detachParts).
import { parentPort } from 'node:worker_threads';
import { detachParts, prepareConfig, prepareRequest } from './prepare-core.js';
import type { PrepareJob, PrepareReply } from './prepare.js';

parentPort!.on('message', (job: PrepareJob) => {
  let reply: PrepareReply;
  try {
    const result = job.kind === 'config' ? prepareConfig(job.bytes, job.file) : prepareRequest(job.bytes);
    const parts: string[] = [];
    const rest = detachParts(result, parts);
    for (const part of parts) parentPort!.postMessage({ id: job.id, part } satisfies PrepareReply);
    reply = { id: job.id, result: rest as typeof result };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');
