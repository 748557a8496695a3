// The control plane's worker thread (prepare.ts starts it): parses config
// files and control requests so that the forwarding thread does not.
import { parentPort } from 'node:worker_threads';
import { prepareConfig, prepareRequest } from './prepare-core.js';
import type { PrepareJob, PrepareReply } from './prepare.js';

parentPort!.on('message', (job: PrepareJob) => {
  let reply: PrepareReply;
  try {
    const result = job.kind === 'config' ? prepareConfig(job.bytes, job.file) : prepareRequest(job.bytes);
    reply = { id: job.id, result };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');
