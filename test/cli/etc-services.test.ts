// /etc/services as glibc's files backend reads it, for getservbyname and
// getservbyport: annotated lines with aliases, comments, tcp and udp apart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServicesDb, parseServices } from '../../src/cli/etc-services.js';

const TEXT = [
  '# Network services, Internet style',            // a comment line
  '',                                               // blank
  'tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer', // comment after the entry
  'http\t\t80/tcp\t\twww www-http\t# WorldWideWeb HTTP', // two aliases, then a comment
  'domain\t\t53/tcp',                                // tcp and udp on two lines
  'domain\t\t53/udp',
  'syslog\t\t514/udp',                               // udp only
  'shell\t\t514/tcp\t\tcmd\t\t# no passwords used', // same port, other protocol, other name
  'webcache\t8080/tcp\t\thttp-alt',
  'http-alt\t8080/tcp',                              // a second name for a port: the first line answers by port
  'www-alt  80/tcp',                                 // a later line for port 80: by name only
  'sctpish\t5000/sctp',                              // another protocol
  'broken\tnotaport/tcp',                            // not an entry
  'nohost',                                          // a name alone: not an entry
  'toolarge\t70000/tcp',                             // no port number
  'commented#out 99/tcp',                            // '#' inside a word cuts the line
  '  leading\t 7/tcp  echo-alias  ',                 // blanks around the fields
].join('\n');

describe('/etc/services', () => {
  it('parses entries in file order, skipping comments and what is not an entry', () => {
    expect(parseServices(TEXT)).toEqual([
      { name: 'tcpmux', port: 1, proto: 'tcp', aliases: [] },
      { name: 'http', port: 80, proto: 'tcp', aliases: ['www', 'www-http'] },
      { name: 'domain', port: 53, proto: 'tcp', aliases: [] },
      { name: 'domain', port: 53, proto: 'udp', aliases: [] },
      { name: 'syslog', port: 514, proto: 'udp', aliases: [] },
      { name: 'shell', port: 514, proto: 'tcp', aliases: ['cmd'] },
      { name: 'webcache', port: 8080, proto: 'tcp', aliases: ['http-alt'] },
      { name: 'http-alt', port: 8080, proto: 'tcp', aliases: [] },
      { name: 'www-alt', port: 80, proto: 'tcp', aliases: [] },
      { name: 'sctpish', port: 5000, proto: 'sctp', aliases: [] },
      { name: 'leading', port: 7, proto: 'tcp', aliases: ['echo-alias'] },
    ]);
  });

  it('getservbyname: by name or alias, per protocol, first line wins, case-sensitive', () => {
    const db = new ServicesDb(parseServices(TEXT));
    expect(db.port('http', 'tcp')).toBe(80);
    expect(db.port('www', 'tcp')).toBe(80);
    expect(db.port('www-http', 'tcp')).toBe(80);
    expect(db.port('http', 'udp')).toBeNull();
    expect(db.port('HTTP', 'tcp')).toBeNull();
    expect(db.port('domain', 'udp')).toBe(53);
    expect(db.port('syslog', 'tcp')).toBeNull();
    expect(db.port('syslog', 'udp')).toBe(514);
    expect(db.port('cmd', 'tcp')).toBe(514);
    expect(db.port('http-alt', 'tcp')).toBe(8080);
    expect(db.port('echo-alias', 'tcp')).toBe(7);
    expect(db.port('commented', 'tcp')).toBeNull();
  });

  it('getservbyport: the official name of the first line with that port and protocol', () => {
    const db = new ServicesDb(parseServices(TEXT));
    expect(db.name(80, 'tcp')).toBe('http');
    expect(db.name(80, 'udp')).toBeNull();
    expect(db.name(514, 'tcp')).toBe('shell');
    expect(db.name(514, 'udp')).toBe('syslog');
    expect(db.name(8080, 'tcp')).toBe('webcache');
    expect(db.name(5000, 'tcp')).toBeNull();
    expect(db.name(5000, 'sctp')).toBe('sctpish');
  });

  it('loads a file; a missing one has no names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapvs-services-'));
    try {
      writeFileSync(join(dir, 'services'), TEXT);
      expect(ServicesDb.load(join(dir, 'services')).port('www', 'tcp')).toBe(80);
      expect(ServicesDb.load(join(dir, 'none')).port('http', 'tcp')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
