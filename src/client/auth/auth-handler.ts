/**
 * The enhanced-authentication contract of MQTT 5 (DESIGN.md, "MQTT 5"): the client asks a handler for the data of
 * each step and never looks inside it.
 *
 * The exchange: CONNECT carries `method` as the Authentication Method and what `start()` gives as the
 * Authentication Data; every AUTH packet from the server with reason "continue authentication" (0x18) goes to
 * `next()`, whose answer travels back in an AUTH packet; the CONNACK's Authentication Data goes to `done()`, which
 * throws to refuse the server. A handler may be reused: `start()` begins a fresh exchange (a reconnect, or a
 * re-authentication) and forgets the previous one.
 */
export interface AuthHandler {
  /** The Authentication Method sent in CONNECT (and in every AUTH), e.g. "SCRAM-SHA-256". */
  readonly method: string;
  /** Begins an exchange: the Authentication Data for CONNECT, or undefined to send none. */
  start(): Promise<Uint8Array | undefined>;
  /** Answers a server challenge (the data of an AUTH "continue"): the data for the client's AUTH, or undefined for none. */
  next(data: Uint8Array | undefined): Promise<Uint8Array | undefined>;
  /** Checks the CONNACK's Authentication Data (undefined when it had none); rejects to refuse the server. Optional. */
  done?(data: Uint8Array | undefined): Promise<void>;
}
