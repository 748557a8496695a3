import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on a pipe, readable lines on a terminal; always on stderr. */
export function makeLogger(): Logger {
  if (process.stderr.isTTY) {
    return pino({ base: undefined }, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  return pino({ base: undefined }, pino.destination(2));
}
