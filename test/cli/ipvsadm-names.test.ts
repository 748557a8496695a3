// `tapvs ipvsadm` resolving names in its own process, with a fake resolver,
// against a live director's control socket: named arguments and -R lines
// are sent with their answers, a name that does not resolve is refused
// with ipvsadm's message before the director is asked, listings without -n
// are asked for again with the names of what they printed (and not asked
// again when nothing has a name), and lookups that hang are given up on.
import { afterEach, describe, expect, it } from 'vitest';
import { ipvsadmCommand, type CliIo } from '../../src/cli/ipvsadm.js';
import { ServicesDb, parseServices } from '../../src/cli/etc-services.js';
import type { Resolver } from '../../src/cli/ipvsadm-resolve.js';
import { CLIENT, LiveRig, RS, VIP, clientSegment } from '../control/server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const SERVICES = new ServicesDb(parseServices('http\t80/tcp\twww\nhttp-alt\t8080/tcp\ndomain\t53/udp\n'));

/** A resolver from tables, counting its lookups. */
function fake(hosts: Record<string, string>, addrs: Record<string, string>) {
  const calls = { forward: [] as string[], reverse: [] as string[] };
  const r: Resolver = {
    hostToAddr: async (name) => { calls.forward.push(name); return hosts[name] ?? null; },
    addrToHost: async (addr) => { calls.reverse.push(addr); return addrs[addr] ?? null; },
    serviceToPort: (name, proto) => SERVICES.port(name, proto),
    portToService: (port, proto) => SERVICES.name(port, proto),
  };
  return { r, calls };
}

async function run(args: string[], r: Resolver, stdin = '', limits = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, readStdin: async () => stdin };
  const code = await ipvsadmCommand(args, io, r, limits);
  return { code, stdout, stderr };
}

const HOSTS = { 'www.lab': VIP, 'rs3.lab': RS.rs3 };
const ADDRS = { [VIP]: 'www.lab', [RS.rs1]: 'rs1.lab', [RS.rs3]: 'rs3.lab' };

describe('tapvs ipvsadm with names', () => {
  it('adds by name, lists with names without -n and numbers with -n', async () => {
    const r = rig = await new LiveRig().start();
    const { r: res, calls } = fake(HOSTS, ADDRS);
    const s = ['--socket', r.socketPath];
    expect(await run([...s, '-A', '-t', 'www.lab:http-alt', '-s', 'lc'], res)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await run([...s, '-a', '-t', 'www.lab:http-alt', '-r', 'rs3.lab', '-m', '-w', '2'], res)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(calls.reverse).toEqual([]);
    expect((await run([...s, '-S', '-n'], res)).stdout).toBe(
      `-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 1\n` +
        `-A -t ${VIP}:8080 -s lc\n-a -t ${VIP}:8080 -r ${RS.rs3}:8080 -m -w 2\n`,
    );
    expect(calls.reverse).toEqual([]); // -n asks for no names
    const listed = await run([...s, '-L'], res);
    expect(listed).toEqual({
      code: 0, stderr: '',
      stdout: [
        'IP Virtual Server version 1.2.1 (size=1048576)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  www.lab:http rr',
        '  -> rs1.lab:http                 Masq    1      0          0         ',
        '  -> 192.168.10.12:http           Masq    1      0          0         ',
        'TCP  www.lab:http-alt lc',
        '  -> rs3.lab:http-alt             Masq    2      0          0         ',
        '',
      ].join('\n'),
    });
    expect(calls.reverse.sort()).toEqual([VIP, RS.rs1, RS.rs2, RS.rs3].sort());
    expect((await run([...s, '-Ln'], res)).stdout).toContain(`TCP  ${VIP}:8080 lc\n  -> ${RS.rs3}:8080 `);
    expect((await run([...s, '-S'], res)).stdout).toBe(
      '-A -t www.lab:http -s rr\n-a -t www.lab:http -r rs1.lab:http -m -w 1\n-a -t www.lab:http -r 192.168.10.12:http -m -w 1\n' +
        '-A -t www.lab:http-alt -s lc\n-a -t www.lab:http-alt -r rs3.lab:http-alt -m -w 2\n',
    );
    // one service by name, with names
    expect((await run([...s, '-L', '-t', 'www.lab:http-alt'], res)).stdout.split('\n').slice(2, 4)).toEqual([
      'TCP  www.lab:http-alt lc',
      '  -> rs3.lab:http-alt             Masq    2      0          0         ',
    ]);
    // the connection listing names the client's address only if it has a name
    clientSegment(r, 40000, 'S');
    expect((await run([...s, '-L', '-c'], res)).stdout.split('\n')[2]).toMatch(
      new RegExp(`^TCP [0-9]{2}:[0-9]{2}  SYN_RECV    ${CLIENT.replaceAll('.', '\\.')}:40000  www\\.lab:http       rs[12]\\.lab:http$|^TCP [0-9]{2}:[0-9]{2}  SYN_RECV    ${CLIENT.replaceAll('.', '\\.')}:40000  www\\.lab:http       192\\.168\\.10\\.12:http$`),
    );
  });

  it("refuses a name that does not resolve with ipvsadm's message, before any director is asked", async () => {
    const { r: res } = fake(HOSTS, ADDRS);
    const none = ['--socket', '/nonexistent-tapvs/tapvs.sock'];
    expect(await run([...none, '-A', '-t', 'gone.lab:http'], res)).toEqual({ code: 2, stdout: '', stderr: 'illegal virtual server address[:port] specified\n' });
    expect(await run([...none, '-A', '-t', 'www.lab:nosuch'], res)).toEqual({ code: 2, stdout: '', stderr: 'illegal virtual server address[:port] specified\n' });
    expect(await run([...none, '-a', '-t', 'www.lab:http', '-r', 'gone.lab', '-m'], res)).toEqual({ code: 2, stdout: '', stderr: 'illegal real server address[:port] specified\n' });
    // SCTP ports are numbers only, as service_to_port knows tcp and udp
    expect(await run([...none, '-A', '--sctp-service', 'www.lab:http'], res)).toEqual({ code: 2, stdout: '', stderr: 'illegal virtual server address[:port] specified\n' });
  });

  it('-R resolves its lines the same way; a line that does not resolve changes nothing', async () => {
    const r = rig = await new LiveRig().start();
    const { r: res, calls } = fake(HOSTS, ADDRS);
    const s = ['--socket', r.socketPath];
    const bad = await run([...s, '-R'], res, '-A -u www.lab:domain -s rr\n-a -u www.lab:domain -r gone.lab -m\n');
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'line 2: illegal real server address[:port] specified\nno rule was changed\n' });
    expect(calls.forward.sort()).toEqual(['gone.lab', 'www.lab']);
    expect(await run([...s, '-R'], res, '-A -u www.lab:domain -s rr\n-a -u www.lab:domain -r rs3.lab -m\n')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run([...s, '-S', '-n'], res)).stdout).toContain(`-A -u ${VIP}:53 -s rr\n-a -u ${VIP}:53 -r ${RS.rs3}:53 -m -w 1\n`);
    expect(await run([...s, '-R', '--compat'], res, '-D -u www.lab:domain\n')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run([...s, '-S', '-n'], res)).stdout).not.toContain(':53');
  });

  it('asks once when nothing printed has a name; a lookup that hangs is given up on', async () => {
    const r = rig = await new LiveRig().start();
    const s = ['--socket', r.socketPath];
    const nothing = fake({}, {});
    const plain = await run([...s, '-L', '--stats'], { ...nothing.r, portToService: () => null });
    expect(plain.stdout).toBe((await run([...s, '-Ln', '--stats'], nothing.r)).stdout);
    const hang: Resolver = {
      hostToAddr: () => new Promise(() => {}),
      addrToHost: () => new Promise(() => {}),
      serviceToPort: () => null,
      portToService: (port, proto) => SERVICES.name(port, proto),
    };
    const t0 = Date.now();
    expect(await run([...s, '-A', '-t', 'www.lab:80'], hang, '', { timeoutMs: 100 })).toEqual({ code: 2, stdout: '', stderr: 'illegal virtual server address[:port] specified\n' });
    const listed = await run([...s, '-L'], hang, '', { timeoutMs: 100 });
    expect(listed.stdout.split('\n').slice(3, 4)).toEqual([`TCP  ${VIP}:http rr`]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
