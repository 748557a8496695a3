// /etc/services, read the way glibc's files backend reads it, for the two
// lookups ipvsadm makes (Node has neither getservbyname nor getservbyport):
// a line is "name port/proto [alias...]", '#' starts a comment anywhere,
// blanks separate; the first line that matches wins, by its official name
// or any alias (exact, case-sensitive, as strcmp), and a port lookup
// answers the official name.
import { readFileSync } from 'node:fs';

export interface ServiceEntry {
  name: string;
  port: number;
  proto: string;
  aliases: string[];
}

export const ETC_SERVICES = '/etc/services';

/** The entries of a services file, in file order; lines that are not entries are skipped. */
export function parseServices(text: string): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[ \t\r\f\v]+/).filter((f) => f !== '');
    if (fields.length < 2) continue;
    const m = /^([0-9]{1,5})\/([^/]+)$/.exec(fields[1]!);
    if (!m) continue;
    const port = Number(m[1]);
    // glibc would keep the low 16 bits of a larger number; a port that is not one is no entry here
    if (port > 65535) continue;
    out.push({ name: fields[0]!, port, proto: m[2]!, aliases: fields.slice(2) });
  }
  return out;
}

/** getservbyname / getservbyport over one services file. */
export class ServicesDb {
  private readonly byName = new Map<string, number>();
  private readonly byPort = new Map<string, string>();

  constructor(entries: readonly ServiceEntry[]) {
    for (const e of entries) {
      for (const n of [e.name, ...e.aliases]) {
        const k = `${e.proto}/${n}`;
        if (!this.byName.has(k)) this.byName.set(k, e.port);
      }
      const pk = `${e.proto}/${e.port}`;
      if (!this.byPort.has(pk)) this.byPort.set(pk, e.name);
    }
  }

  /** The port of a service name (or alias) under `proto`, or null. */
  port(name: string, proto: string): number | null {
    return this.byName.get(`${proto}/${name}`) ?? null;
  }

  /** The official name of a port under `proto`, or null. */
  name(port: number, proto: string): string | null {
    return this.byPort.get(`${proto}/${port}`) ?? null;
  }

  /** The services file at `path`; a file that cannot be read has no entries (every lookup fails, as getservbyname's). */
  static load(path = ETC_SERVICES): ServicesDb {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // no file: no names
    }
    return new ServicesDb(parseServices(text));
  }
}
