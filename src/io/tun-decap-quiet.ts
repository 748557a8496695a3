/**
 * Keeps a real server that decapsulates in user space (tun-decap.ts) from
 * answering "protocol unreachable" for the tunnel protocols its raw sockets
 * take.
 *
 * Why: a kernel with ipip (ip_gre, ip6_tunnel) never says protocol 4 (47,
 * 41) is unreachable. With the helper, the kernel sees a raw socket for the
 * protocol and stays quiet too, but only while that socket has room: this
 * kernel (6.x; seen on 6.18) counts a raw socket whose receive queue is full
 * as no socket at all, increments IpInUnknownProtos and sends ICMP protocol
 * unreachable (ICMPv6 parameter problem, unrecognized next header) back to
 * the director. The director then does what IPVS's ip_vs_in_icmp does with
 * an error about its own tunnel: it relays it to the client, whose connected
 * socket fails with ENOPROTOOPT ("Protocol not available"). A UDP flood
 * through a TUN lab ended iperf3 that way. So, in the helper's namespace, an
 * nftables output rule drops exactly those errors: ICMP type 3 code 2 whose
 * quoted header names one of the helper's protocols, and ICMPv6 type 4 code
 * 1 whose quoted header's next header is one of them.
 */
import { execFileSync } from 'node:child_process';

export const QUIET_TABLE = 'tapvs_decap';

/**
 * The nft script for the protocols taken over IPv4 (`v4`, e.g. [4, 47]) and
 * IPv6 (`v6`, e.g. [41, 47]). Replaces an earlier table of the same name, so
 * a helper restarted after a SIGKILL leaves one table, not two.
 *
 * Offsets from the start of the ICMP header (nft's @th): 8 bytes of ICMP,
 * then the quoted IPv4 header, whose protocol is its byte 9 (bit 136); the
 * quoted IPv6 header's next header is its byte 6 (bit 112).
 */
export function quietScript(v4: readonly number[], v6: readonly number[]): string {
  const rules: string[] = [];
  if (v4.length > 0) rules.push(`    icmp type destination-unreachable icmp code prot-unreachable @th,136,8 { ${v4.join(', ')} } counter drop`);
  if (v6.length > 0) rules.push(`    icmpv6 type parameter-problem icmpv6 code 1 @th,112,8 { ${v6.join(', ')} } counter drop`);
  return [
    `add table inet ${QUIET_TABLE}`,
    `delete table inet ${QUIET_TABLE}`,
    `table inet ${QUIET_TABLE} {`,
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Installs the table in this namespace. Returns undefined when it took, else
 * why not (no nft, no nf_tables): the helper then works as before and says so.
 */
export function quietUnreachables(v4: readonly number[], v6: readonly number[]): string | undefined {
  if (v4.length === 0 && v6.length === 0) return undefined;
  try {
    execFileSync('nft', ['-f', '-'], { input: quietScript(v4, v6), stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    return e.code === 'ENOENT' ? 'nft not found' : String(e.stderr ?? (err as Error).message).trim().split('\n')[0];
  }
}

/** Removes the table again (best effort: the namespace may be going away). */
export function unquietUnreachables(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', QUIET_TABLE], { stdio: 'ignore', timeout: 10_000 });
  } catch { /* not there, or nft gone */ }
}
