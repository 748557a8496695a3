import { PcapngStreamWriter } from '../io/pcap-file.js';

/**
 * Records a live director's frames into pcapng files whose interfaces are
 * the director's ports: `received` is exactly what `tapvs replay` takes as
 * input, `sent` is what it writes. So a live session can be kept and
 * replayed offline as a regression test, and the two compared.
 * Only built when asked for (`tapvs run --record/--record-sent`): it copies
 * every frame.
 */
export class Recorder {
  private rx: PcapngStreamWriter | undefined;
  private tx: PcapngStreamWriter | undefined;
  /** The clock of the frame or timer being handled, in ms: stamps what is sent. */
  now = 0;

  constructor(ports: string[], paths: { received?: string; sent?: string }) {
    // microsecond stamps: the replay clock reads them back exactly as the live one ran
    if (paths.received) this.rx = PcapngStreamWriter.open(paths.received, ports, { nanos: false });
    if (paths.sent) this.tx = PcapngStreamWriter.open(paths.sent, ports, { nanos: false });
  }

  received(port: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.now = now;
    this.rx?.add(port, toNs(now), buf.subarray(off, off + len));
  }

  sent(port: number, buf: Uint8Array, off: number, len: number): void {
    this.tx?.add(port, toNs(this.now), buf.subarray(off, off + len));
  }

  close(): void {
    this.rx?.close();
    this.tx?.close();
  }
}

/** ms (float) to ns, rounded to the microsecond the file keeps. */
function toNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}
