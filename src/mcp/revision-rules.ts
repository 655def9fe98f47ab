import { DEFAULT_NEGOTIATED_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';

/**
 * What a session's negotiated protocol revision changes in how its HTTP requests are judged. Pure
 * checks returning a verdict; the transport turns a refusal into a 400.
 *
 * Revisions are dates (YYYY-MM-DD), so they compare as strings.
 */
export type Verdict = { ok: true } | { ok: false; message: string };

/**
 * MCP 2025-06-18 basic/transports, "Protocol Version Header": every request after initialize
 * carries `MCP-Protocol-Version` with the version negotiated at initialize; an invalid or
 * unsupported value gets 400. A value that differs from the session's negotiated version is
 * invalid for that session (the client would be speaking another revision than the one both
 * sides agreed on). Without the header the server SHOULD assume 2025-03-26, the revision before
 * the header existed: accepted, as clients of that revision never send it.
 */
export function checkVersionHeader(header: string | string[] | undefined, negotiated: string | undefined): Verdict {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return { ok: true };
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(value)) {
    return {
      ok: false,
      message: `Bad Request: unsupported protocol version ${value} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    };
  }
  if (negotiated !== undefined && value !== negotiated) {
    return {
      ok: false,
      message: `Bad Request: MCP-Protocol-Version ${value} does not match the version negotiated for this session (${negotiated})`,
    };
  }
  return { ok: true };
}

/** MCP 2025-06-18 changelog: "Remove support for JSON-RPC batching". 2025-03-26 sessions keep it. */
export function allowsBatches(negotiated: string | undefined): boolean {
  return (negotiated ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION) < '2025-06-18';
}

/**
 * MCP 2025-11-25 basic/transports, "Sending Messages to the Server" 6: the server SHOULD start each
 * SSE stream with an event that has an id and empty data, so the client can reconnect from it.
 * Clients of earlier revisions may take empty data for a malformed message (the SDK's own server
 * transport primes only 2025-11-25 sessions for that reason), so only those sessions get it.
 */
export function primesStreams(negotiated: string | undefined): boolean {
  return negotiated !== undefined && negotiated >= '2025-11-25';
}
