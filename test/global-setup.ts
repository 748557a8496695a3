// The suite drives real TAP devices, raw sockets and network namespaces: it
// needs root. Say so once, plainly, instead of skipping half the tests.
export default function setup(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('the tapvs tests need root (TAP devices, raw sockets, network namespaces): run `sudo make test`');
  }
}
