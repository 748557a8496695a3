// Names, the way ipvsadm uses them, split between the two processes of
// `tapvs ipvsadm`: the client (the user's process, where ipvsadm itself
// resolves) looks names up; the director only reads the answers it is
// sent. So the forwarding thread never waits on a resolver, and the names
// are the ones the user's /etc/hosts, nsswitch and /etc/services give.
//
// Arguments: the client finds the names a command line (and each -R line)
// would make ipvsadm look up (`wantedNames`), resolves them, and sends the
// answers with the request (`hosts`, `services`); the director's parser
// takes them from there (`answerLookup`).
//
// Listings: a listing without -n asked without answers is printed
// numerically, and the reply says which IPv4 addresses and ports it printed
// (`NameQuestions`); the client looks those up and asks again with
// `addrs` and `ports`, and the one formatter (ipvsadm-format.ts) prints the
// names. Everything is bounded: names per request, lookup time (client side).
import { parseIpvsadmArgs, splitWords, type NameLookup } from './ipvsadm-args.js';

/** What the client resolved, as a request carries it (plain JSON). */
export interface NameAnswers {
  /** host name as written → its first IPv4 address, dotted (gethostbyname); a name left out did not resolve. */
  hosts?: Record<string, string>;
  /** "tcp/http" → port (getservbyname). */
  services?: Record<string, number>;
  /** dotted IPv4 → host name (gethostbyaddr), for listings. */
  addrs?: Record<string, string>;
  /** "tcp/80" → service name (getservbyport), for listings. */
  ports?: Record<string, string>;
}

/** What a listing printed that a name could replace: dotted IPv4 addresses, "tcp/80" ports. */
export interface NameQuestions {
  addrs: string[];
  ports: string[];
}

/** Host names (and, apart, service names) one request may have resolved for it. */
export const MAX_FORWARD_NAMES = 4096;
/** Addresses one listing asks names for; the others stay numeric. */
export const MAX_REVERSE_ADDRS = 1024;
/** Ports one listing asks names for (each a line of /etc/services at most). */
export const MAX_REVERSE_PORTS = 8192;
/** A DNS name is at most 253 characters; a services name is shorter. */
const MAX_NAME_LENGTH = 255;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const DOTTED = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const PORT_KEY = /^(tcp|udp)\/([0-9]{1,5})$/;

/** Checks a request's `names`; returns why it is not one, or null. */
export function answersProblem(v: unknown): string | null {
  if (!isRecord(v)) return "'names' must be an object";
  const fields: Array<[keyof NameAnswers, number, (k: string, x: unknown) => boolean]> = [
    ['hosts', MAX_FORWARD_NAMES, (k, x) => k.length <= MAX_NAME_LENGTH && typeof x === 'string' && DOTTED.test(x)],
    ['services', MAX_FORWARD_NAMES, (k, x) => /^(tcp|udp)\//.test(k) && k.length <= MAX_NAME_LENGTH && Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 65535],
    ['addrs', MAX_REVERSE_ADDRS, (k, x) => DOTTED.test(k) && typeof x === 'string' && x.length <= MAX_NAME_LENGTH],
    ['ports', MAX_REVERSE_PORTS, (k, x) => PORT_KEY.test(k) && typeof x === 'string' && x.length <= MAX_NAME_LENGTH],
  ];
  for (const [field, max, valid] of fields) {
    const f = v[field];
    if (f === undefined) continue;
    if (!isRecord(f)) return `'names.${field}' must be an object`;
    const entries = Object.entries(f);
    if (entries.length > max) return `'names.${field}' holds more than ${max} entries`;
    for (const [k, x] of entries) if (!valid(k, x)) return `'names.${field}' has a bad entry for '${k.slice(0, 64)}'`;
  }
  return null;
}

// Maps, not the records themselves: a host named "constructor" must not find Object's
const mapOf = <T>(r: Record<string, T> | undefined): Map<string, T> => new Map(r ? Object.entries(r) : []);

/** The parser's lookups answered from a request's `hosts` and `services` (absent: did not resolve). */
export function answerLookup(a: NameAnswers): NameLookup {
  const hosts = mapOf(a.hosts);
  const services = mapOf(a.services);
  return {
    host: (name) => {
      const d = hosts.get(name);
      if (d === undefined) return null;
      const [p0, p1, p2, p3] = d.split('.').map(Number) as [number, number, number, number];
      return ((p0 << 24) | (p1 << 16) | (p2 << 8) | p3) >>> 0;
    },
    service: (name, proto) => services.get(`${proto}/${name}`) ?? null,
  };
}

/** Reverse answers for the listing formatter. */
export interface ReverseNames {
  /** dotted IPv4 → host name */
  addrs: ReadonlyMap<string, string>;
  /** "tcp/80" → service name */
  ports: ReadonlyMap<string, string>;
}

/** The reverse part of a request's answers, or undefined when it carries none (the listing then asks). */
export function reverseNames(a: NameAnswers | undefined): ReverseNames | undefined {
  if (!a || (a.addrs === undefined && a.ports === undefined)) return undefined;
  return { addrs: mapOf(a.addrs), ports: mapOf(a.ports) };
}

/** The forward lookups a set of command lines makes: host names, and service names by protocol. */
export interface WantedNames {
  hosts: Set<string>;
  /** "tcp/http" */
  services: Set<string>;
}

/**
 * Which names ipvsadm would look up for this command line and, for -R, for
 * each line of `stdin`: the line is parsed with every lookup answered by a
 * stand-in, so the parse goes on past each name as it would once the name
 * resolves (and stops where ipvsadm would stop anyway).
 */
export function wantedNames(argv: readonly string[], stdin?: string): WantedNames {
  const want: WantedNames = { hosts: new Set(), services: new Set() };
  const recorder: NameLookup = {
    host: (name) => {
      if (want.hosts.size < MAX_FORWARD_NAMES + 1) want.hosts.add(name);
      return 0x0a000001; // any IPv4 address: only the names are wanted here
    },
    service: (name, proto) => {
      if (want.services.size < MAX_FORWARD_NAMES + 1) want.services.add(`${proto}/${name}`);
      return 1;
    },
  };
  const parsed = parseIpvsadmArgs(argv, recorder);
  if (parsed.ok && parsed.command.cmd === 'restore' && stdin !== undefined) {
    for (const raw of stdin.split('\n')) {
      const words = splitWords(raw);
      if (words.length > 0) parseIpvsadmArgs(words, recorder);
    }
  }
  return want;
}

/** Collects what a listing printed, bounded (what comes after the bounds stays numeric). */
export class Questions {
  private readonly addrs = new Set<string>();
  private readonly ports = new Set<string>();

  /** A dotted IPv4 address printed. */
  addr(dotted: string): void {
    if (this.addrs.size < MAX_REVERSE_ADDRS) this.addrs.add(dotted);
  }

  port(key: string): void {
    if (this.ports.size < MAX_REVERSE_PORTS) this.ports.add(key);
  }

  /** The questions, or undefined when there is nothing to name. */
  result(): NameQuestions | undefined {
    if (this.addrs.size === 0 && this.ports.size === 0) return undefined;
    return { addrs: [...this.addrs], ports: [...this.ports] };
  }
}

/** Checks the questions in a reply (the client's side of the bounds). */
export function questionsProblem(v: unknown): string | null {
  if (!isRecord(v) || !Array.isArray(v.addrs) || !Array.isArray(v.ports)) return 'malformed name questions';
  if (v.addrs.length > MAX_REVERSE_ADDRS || v.ports.length > MAX_REVERSE_PORTS) return 'too many name questions';
  if (!v.addrs.every((a) => typeof a === 'string' && DOTTED.test(a))) return 'a bad address in the name questions';
  if (!v.ports.every((p) => typeof p === 'string' && PORT_KEY.test(p))) return 'a bad port in the name questions';
  return null;
}
