// The lookups of `tapvs ipvsadm`, made in the user's process as ipvsadm
// makes them: host names through getaddrinfo (dns.lookup: /etc/hosts,
// nsswitch, DNS) for IPv4 only, taking the first address as host_to_addr
// does; addresses back to names through getnameinfo (dns.lookupService,
// which is gethostbyaddr's answer under nsswitch); services from
// /etc/services (etc-services.ts). Unlike ipvsadm, which waits on its
// resolver however long it takes, each lookup is given LOOKUP_TIMEOUT_MS
// and all of one request LOOKUP_BUDGET_MS: a lookup not answered by then
// counts as failed (an argument is refused, a listing prints the number).
import dns from 'node:dns';
import type { NameAnswers, NameQuestions, WantedNames } from '../control/ipvsadm-names.js';
import { ServicesDb } from './etc-services.js';

export const LOOKUP_TIMEOUT_MS = 2000;
export const LOOKUP_BUDGET_MS = 10_000;
/** getaddrinfo runs in libuv's thread pool (4 threads by default): more at once only queue there. */
const LOOKUPS_AT_ONCE = 8;

/** The lookups, each answering null when the name or address does not resolve. */
export interface Resolver {
  /** A host name's first IPv4 address, dotted. */
  hostToAddr(name: string): Promise<string | null>;
  /** A dotted IPv4 address's host name. */
  addrToHost(addr: string): Promise<string | null>;
  serviceToPort(name: string, proto: 'tcp' | 'udp'): number | null;
  portToService(port: number, proto: 'tcp' | 'udp'): string | null;
}

/** p's value, or null when it fails or takes longer than `ms` (then `late` is called). */
function within<T>(p: Promise<T>, ms: number, late: () => void): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      late();
      resolve(null);
    }, ms);
    p.then(
      (v) => { clearTimeout(timer); resolve(v); },
      () => { clearTimeout(timer); resolve(null); },
    );
  });
}

/** The system's resolver (getaddrinfo, getnameinfo, /etc/services). */
export class SystemResolver implements Resolver {
  private services: ServicesDb | undefined;

  constructor(private readonly servicesPath?: string) {}

  private db(): ServicesDb {
    return (this.services ??= ServicesDb.load(this.servicesPath));
  }

  async hostToAddr(name: string): Promise<string | null> {
    // hints 0: no AI_ADDRCONFIG, which gethostbyname does not apply either
    const list = await dns.promises.lookup(name, { family: 4, hints: 0, all: true });
    const a = list[0]?.address;
    return a !== undefined && a !== '' ? a : null;
  }

  async addrToHost(addr: string): Promise<string | null> {
    const r = await dns.promises.lookupService(addr, 0);
    return r.hostname && r.hostname !== addr ? r.hostname : null;
  }

  serviceToPort(name: string, proto: 'tcp' | 'udp'): number | null {
    return this.db().port(name, proto);
  }

  portToService(port: number, proto: 'tcp' | 'udp'): string | null {
    return this.db().name(port, proto);
  }
}

/** How long lookups may take, and how many were given up on (their threads may still be busy). */
export interface LookupLimits {
  timeoutMs?: number;
  budgetMs?: number;
  /** Counts the lookups that timed out. */
  timedOut?: { count: number };
}

/** Runs `f` over `items`, so many at a time, each within the timeout, starting none once the budget is spent. */
async function bounded<T, R>(
  items: readonly T[], lim: LookupLimits, f: (x: T) => Promise<R>, done: (x: T, r: R) => void,
): Promise<void> {
  const deadline = Date.now() + (lim.budgetMs ?? LOOKUP_BUDGET_MS);
  const timeout = lim.timeoutMs ?? LOOKUP_TIMEOUT_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && Date.now() < deadline) {
      const x = items[next++]!;
      const left = Math.max(1, Math.min(timeout, deadline - Date.now()));
      const r = await within(f(x), left, () => { if (lim.timedOut) lim.timedOut.count++; });
      if (r !== null) done(x, r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_AT_ONCE, items.length) }, worker));
}

const protoOf = (key: string): ['tcp' | 'udp', string] => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as 'tcp' | 'udp', key.slice(slash + 1)];
};

/** Longer names are no DNS names, and the director would refuse the answers. */
const MAX_NAME = 255;

/** The answers to a command line's forward lookups; the names that do not resolve are left out. */
export async function resolveForward(want: WantedNames, r: Resolver, lim: LookupLimits = {}): Promise<NameAnswers> {
  const hosts: Record<string, string> = {};
  const services: Record<string, number> = {};
  for (const key of want.services) {
    const [proto, name] = protoOf(key);
    const port = key.length <= MAX_NAME ? r.serviceToPort(name, proto) : null;
    if (port !== null) services[key] = port;
  }
  const names = [...want.hosts].filter((h) => h.length <= MAX_NAME);
  await bounded(names, lim, (name) => r.hostToAddr(name), (name, a) => {
    if (a !== null) hosts[name] = a;
  });
  return { hosts, services };
}

/** The names of what a listing printed; what has none is left out (and printed as a number). */
export async function resolveReverse(q: NameQuestions, r: Resolver, lim: LookupLimits = {}): Promise<NameAnswers> {
  const addrs: Record<string, string> = {};
  const ports: Record<string, string> = {};
  for (const key of q.ports) {
    const [proto, port] = protoOf(key);
    const name = r.portToService(Number(port), proto);
    if (name !== null && name.length <= MAX_NAME) ports[key] = name;
  }
  await bounded(q.addrs, lim, (addr) => r.addrToHost(addr), (addr, h) => {
    if (h !== null && h.length <= MAX_NAME) addrs[addr] = h;
  });
  return { addrs, ports };
}
