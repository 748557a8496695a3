// The configs shown to users must be ones tapvs accepts: every example in the
// README's config section and in docs/config.md's examples is parsed and
// checked (topology included) as `tapvs check-config` does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfig } from '../../src/control/config.js';

function blocks(file: string, from: string, to: string): string[] {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(from);
  const end = text.indexOf(to, start + from.length);
  expect(start, `${file}: section '${from}'`).toBeGreaterThanOrEqual(0);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function problems(text: string, name: string): string[] {
  const r = parseConfig(text, name);
  return 'errors' in r ? r.errors.map(formatConfigError) : [];
}

describe('configs in the documentation', () => {
  it('the README shows one valid config per forwarding mode, for IPv4 and for IPv6', () => {
    const found = blocks('README.md', '## The config file', '\n## ');
    expect(found).toHaveLength(6);
    const modes = found.map((b) => (b.includes(' -m') ? 'nat' : b.includes(' -g') ? 'dr' : b.includes(' -i') ? 'tun' : '?'));
    expect(modes).toEqual(['nat', 'dr', 'tun', 'nat', 'dr', 'tun']);
    // the last three have IPv6 services ([addr]:port) with IPv6 real servers
    for (const b of found.slice(3)) expect(b).toMatch(/-a -t \[2001:db8:[0-9a-f:]+\]:80 -r \[2001:db8:[0-9a-f:]+\]:\d+ -[mgi]/);
    found.forEach((b, i) => expect(problems(b, `README example ${i + 1}`)).toEqual([]));
  });

  it('the NAT example of docs/config.md is valid', () => {
    const [nat] = blocks('docs/config.md', '## Example (NAT)', '\n## ');
    expect(problems(nat!, 'docs/config.md example')).toEqual([]);
  });

  it('a broken copy of an example is refused with its line (the check can fail)', () => {
    const [nat] = blocks('README.md', '## The config file', '\n## ');
    const broken = nat!.replace('-s rr', '-s rrr');
    expect(problems(broken, 'x.conf').join('\n')).toMatch(/^x\.conf:\d+: unknown scheduler 'rrr'/);
  });
});
