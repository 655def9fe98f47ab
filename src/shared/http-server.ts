import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './logger.js';
import { createThrottle } from './throttle.js';

/** What one listener allows a client: the `gateway` settings of the same names (src/config/schema.ts). */
export interface ListenerLimits {
  headersTimeoutMs: number;
  receiveTimeoutMs: number;
  maxConnections: number;
}

/** How often Node looks for connections past a limit: a request is cut at most this much late. */
const CHECK_INTERVAL_MS = 1_000;
/** Idle keep-alive sockets close soon, so shutdown is quick; long calls hold their response open, not an idle socket. */
const KEEP_ALIVE_MS = 5_000;
/** One warning per window while connections are being refused, not one per connection. */
const DROP_WARNING_MS = 60_000;

/**
 * An HTTP server whose clients cannot hold it open by being slow or many (slowloris): the
 * request headers must arrive within `headersTimeoutMs` and the whole request within
 * `receiveTimeoutMs` (Node answers 408 and closes), and connections beyond `maxConnections` are
 * closed as they arrive. Node's `requestTimeout` bounds receiving the request only: a long tool
 * call or an SSE stream, whose request arrived whole, runs as long as its response needs
 * (test/integration/http-limits.test.ts proves both).
 */
export function createHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: ListenerLimits,
  logger: Logger,
): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.receiveTimeoutMs,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
    handler,
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.maxConnections = limits.maxConnections;
  let refused = 0;
  const warn = createThrottle(DROP_WARNING_MS, () => {
    logger.warn('connections refused: maxConnections reached', { refused, maxConnections: limits.maxConnections });
    refused = 0;
  });
  server.on('drop', () => {
    refused++;
    warn.trigger();
  });
  server.on('close', () => warn.close());
  return server;
}
