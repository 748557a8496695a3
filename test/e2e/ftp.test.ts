// End-to-end: FTP through LVS-NAT (the FTP helper, xmit/ftp.ts) in the NAT
// lab. Each real server runs vsftpd (anonymous, active data from port 20,
// its own address in 227 replies; a second one on its IPv6 address) serving
// the same 4 MB file; the client downloads it with curl through the VIP in
// passive mode (EPSV, and PASV with its 227 rewritten to the VIP) and in
// active mode (EPRT and PORT: the real server's connect from port 20 comes
// out from VIP:20), then over the IPv6 VIP (EPSV, EPRT |2|). With
// `option unmatched_from_rs drop`, a real server's packet that belongs to
// no conn is dropped, so nothing works without the helper's data conns.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, fileSha256, parseConns, stillRunning, waitFor } from './lab.js';

const SIZE = 4 * 1024 * 1024;

describe('e2e nat: FTP through the VIP with the FTP helper', () => {
  const lab = new E2eLab(`tve${process.pid % 1000}f`, 'nat');
  let sha = '';
  let pids: number[] = [];

  beforeAll(async () => {
    const vip = '10.0.0.100';
    const rs = ['192.168.10.11', '192.168.10.12'];
    const vip6 = '2001:db8::100';
    const rs6 = ['2001:db8:10::11', '2001:db8:10::12'];
    await lab.up({
      sched: 'rr',
      ipv6Services: false,
      extra: [
        'option unmatched_from_rs drop',
        `-A -t ${vip}:21 -s rr`,
        ...rs.map((a) => `-a -t ${vip}:21 -r ${a}:21 -m -w 1`),
        `-A -t [${vip6}]:21 -s rr`,
        ...rs6.map((a) => `-a -t [${vip6}]:21 -r [${a}]:21 -m -w 1`),
      ],
    });
    const data = randomBytes(SIZE);
    for (let k = 1; k <= 2; k++) {
      const root = join(lab.dir, `ftp-rs${k}`);
      const pub = join(root, 'pub');
      const empty = join(lab.dir, `ftp-empty-rs${k}`);
      mkdirSync(pub, { recursive: true });
      mkdirSync(empty, { recursive: true });
      writeFileSync(join(pub, 'file.bin'), data);
      for (const d of [root, pub, empty]) chmodSync(d, 0o755);
      chmodSync(join(pub, 'file.bin'), 0o644);
      // one vsftpd for IPv4, one on the real server's IPv6 address
      const common = [
        'anonymous_enable=YES', 'no_anon_password=YES', `anon_root=${root}`, 'local_enable=NO', 'write_enable=NO',
        'connect_from_port_20=YES', 'ftp_data_port=20', 'pasv_enable=YES', 'pasv_min_port=40000', 'pasv_max_port=40999',
        `secure_chroot_dir=${empty}`, 'seccomp_sandbox=NO', 'isolate=NO', 'isolate_network=NO',
        `ftpd_banner=rs${k} ftp ready`, 'xferlog_enable=NO', 'dirmessage_enable=NO', 'use_localtime=NO', 'background=NO', 'listen_port=21',
      ];
      const conf = join(lab.dir, `vsftpd-rs${k}.conf`);
      writeFileSync(conf, [...common, 'listen=YES', 'listen_ipv6=NO'].join('\n') + '\n');
      const conf6 = join(lab.dir, `vsftpd6-rs${k}.conf`);
      writeFileSync(conf6, [...common, 'listen=NO', 'listen_ipv6=YES', `listen_address6=${rs6[k - 1]}`].join('\n') + '\n');
      lab.spawnIn(`${lab.id}-rs${k}`, '/usr/sbin/vsftpd', [conf]);
      lab.spawnIn(`${lab.id}-rs${k}`, '/usr/sbin/vsftpd', [conf6]);
    }
    sha = fileSha256(join(lab.dir, 'ftp-rs1', 'pub', 'file.bin')).sha;
    for (let k = 1; k <= 2; k++) {
      for (const a of ['127.0.0.1', rs6[k - 1]!]) {
        const up = await waitFor(async () => (await lab.inNs(`${lab.id}-rs${k}`, 'bash', ['-c', `exec 3<>/dev/tcp/${a}/21`])).code === 0, 15_000, 100);
        expect(up, `vsftpd (${a}) in rs${k} did not start`).toBeGreaterThanOrEqual(0);
      }
    }
  }, 150_000);

  afterAll(async () => {
    pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  }, 90_000);

  /** curl -v through the VIP: the download's sha256 and size, and what curl said to and heard from the server. */
  async function get(name: string, args: string[], host = lab.vip): Promise<{ sha: string; size: number; talk: string }> {
    const out = join(lab.dir, `got-${name}.bin`);
    const r = await lab.client('curl', ['-v', '-s', '--max-time', '40', ...args, '-o', out, `ftp://${host}/pub/file.bin`], 50_000);
    expect(r.code, `curl ${args.join(' ')}: exit ${r.code}\n${r.stderr.slice(-3000)}`).toBe(0);
    return { ...fileSha256(out), talk: r.stderr };
  }

  /** The listed conns from the client to the VIP other than the control conns: the data conns the helper made. */
  async function dataConns(): Promise<{ virtual: string; destination: string; source: string }[]> {
    const l = await lab.ipvsadm('-Lnc');
    expect(l.code, l.stderr).toBe(0);
    return parseConns(l.stdout).filter((c) => c.proto === 'TCP' && c.virtual.startsWith(`${lab.vip}:`) &&
      !c.virtual.endsWith(':21') && !c.virtual.endsWith(':80'));
  }

  it('passive, EPSV (curl --ftp-pasv): the file arrives intact; the data conn goes to the control conn\'s real server', async () => {
    const got = await get('epsv', ['--ftp-pasv']);
    expect(got.talk).toMatch(/< 229 Entering Extended Passive Mode \(\|\|\|4\d{4}\|\)/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    // rr: the first control conn went to rs2 (newest first), its data conn too
    expect(got.talk).toMatch(/< 220 rs2 ftp ready/);
    const data = await dataConns();
    expect(data.length).toBeGreaterThanOrEqual(1);
    expect(data.every((c) => c.destination.startsWith('192.168.10.12:4'))).toBe(true);
  }, 60_000);

  it('passive, PASV (curl --ftp-pasv --disable-epsv): the 227 names the VIP, the file arrives intact', async () => {
    const got = await get('pasv', ['--ftp-pasv', '--disable-epsv']);
    // vsftpd said (192,168,10,11,...); the client heard the VIP
    expect(got.talk).toMatch(/< 227 Entering Passive Mode \(10,0,0,100,\d+,\d+\)/);
    expect(got.talk).toMatch(/< 220 rs1 ftp ready/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    const data = await dataConns();
    expect(data.some((c) => c.destination.startsWith('192.168.10.11:4'))).toBe(true);
  }, 60_000);

  it('active, EPRT (curl --ftp-port -): the server\'s connect from port 20 reaches the client from VIP:20, the file arrives intact', async () => {
    const got = await get('eprt', ['--ftp-port', '-']);
    expect(got.talk).toMatch(/> EPRT \|1\|10\.0\.0\.2\|\d+\|/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    const data = await dataConns();
    expect(data.some((c) => c.virtual === `${lab.vip}:20` && c.destination === '192.168.10.12:20')).toBe(true);
  }, 60_000);

  it('active, PORT (curl --ftp-port - --disable-eprt): the file arrives intact', async () => {
    const got = await get('port', ['--ftp-port', '-', '--disable-eprt']);
    expect(got.talk).toMatch(/> PORT 10,0,0,2,\d+,\d+/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    const data = await dataConns();
    expect(data.some((c) => c.virtual === `${lab.vip}:20` && c.destination === '192.168.10.11:20')).toBe(true);
  }, 60_000);

  it('IPv6, passive (curl -6 --ftp-pasv: EPSV): the file arrives intact over the IPv6 VIP', async () => {
    const got = await get('epsv6', ['-6', '--ftp-pasv'], `[${lab.vip6}]`);
    expect(got.talk).toMatch(/< 229 Entering Extended Passive Mode \(\|\|\|4\d{4}\|\)/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    const l = parseConns((await lab.ipvsadm('-Lnc')).stdout)
      .filter((c) => c.virtual.startsWith(`[${lab.vip6}]:4`));
    expect(l.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('IPv6, active (curl -6 --ftp-port -: EPRT |2|): the file arrives intact, the connect from port 20 comes from [VIP]:20', async () => {
    const got = await get('eprt6', ['-6', '--ftp-port', '-'], `[${lab.vip6}]`);
    expect(got.talk).toMatch(/> EPRT \|2\|2001:db8::2\|\d+\|/);
    expect([got.size, got.sha]).toEqual([SIZE, sha]);
    const l = parseConns((await lab.ipvsadm('-Lnc')).stdout).filter((c) => c.virtual === `[${lab.vip6}]:20`);
    expect(l.length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
