import { PcapngStreamWriter } from '../io/pcap-file.js';

/** Permission bits of the files a Recorder writes: owner read/write only. */
export const RECORD_MODE = 0o600;

/**
 * Records a live director's frames into pcapng files whose interfaces are
 * the director's ports: `received` is exactly what `tapvs replay` takes as
 * input, `sent` is what it writes. So a live session can be kept and
 * replayed offline as a regression test, and the two compared.
 * Only built when asked for (`tapvs run --record/--record-sent`): it copies
 * every frame. The files are readable by their owner only (mode 0600, also
 * when they existed before): they hold other people's traffic.
 */
export class Recorder {
  private rx: PcapngStreamWriter | undefined;
  private tx: PcapngStreamWriter | undefined;
  /** The clock of the frame or timer being handled, in ms: stamps what is sent. */
  now = 0;

  constructor(ports: string[], paths: { received?: string; sent?: string }) {
    // microsecond stamps: the replay clock reads them back exactly as the live one ran
    if (paths.received) this.rx = PcapngStreamWriter.open(paths.received, ports, { nanos: false, mode: RECORD_MODE });
    if (paths.sent) this.tx = PcapngStreamWriter.open(paths.sent, ports, { nanos: false, mode: RECORD_MODE });
  }

  received(port: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.now = now;
    this.rx?.addFrom(port, toNs(now), buf, off, len);
  }

  sent(port: number, buf: Uint8Array, off: number, len: number): void {
    this.tx?.addFrom(port, toNs(this.now), buf, off, len);
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
