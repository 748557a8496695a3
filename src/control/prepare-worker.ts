// The control plane's worker thread (prepare.ts starts it): parses config
// files and control requests so that the forwarding thread does not. The
// JSON chunks of a result are moved as StringPacks (prepare-core.ts).
import { parentPort } from 'node:worker_threads';
import { detachPacks, prepareConfig, prepareRequest, type StringPack } from './prepare-core.js';
import type { PrepareJob, PrepareReply } from './prepare.js';

parentPort!.on('message', (job: PrepareJob) => {
  let reply: PrepareReply;
  try {
    const result = job.kind === 'config' ? prepareConfig(job.bytes, job.file) : prepareRequest(job.bytes);
    const packs: StringPack[] = [];
    const rest = detachPacks(result, packs);
    reply = { id: job.id, result: rest as typeof result, packs: packs.map((p) => ({ bytes: p.bytes, ends: p.ends })) };
    parentPort!.postMessage(reply, packs.flatMap((p) => [p.bytes.buffer as ArrayBuffer, p.ends.buffer as ArrayBuffer]));
    return;
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');
