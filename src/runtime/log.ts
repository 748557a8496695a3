import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on a pipe, readable lines on a terminal; always on stderr; with pino's usual pid and hostname. */
export function makeLogger(): Logger {
  if (process.stderr.isTTY) {
    return pino({}, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  return pino({}, pino.destination(2));
}
