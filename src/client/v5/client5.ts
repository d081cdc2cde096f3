/**
 * A v5 client's MQTT 5 half, loaded (a dynamic import) when a client asks for protocol version 5: its options,
 * checked; a wire per connection; what MQTT 5 adds to publish(), subscribe() and end(); request() and
 * reauthenticate(); the reason codes of acks and a server's DISCONNECT; message expiry and the server's limits on
 * the session's sends. The core calls it at a few places (`v5?.…`) and carries none of it.
 */

import { ProtocolError } from "../../mqtt/errors.js";
import type { Packet, PacketProperties } from "../../mqtt/packets.js";
import type { CheckedPublish } from "../arguments.js";
import { ClientClosedError, ClientWarning, ConnectionLostError, OptionsError, PublishError } from "../errors.js";
import { integer } from "../checks.js";
import { Requester } from "../request.js";
import { Client } from "../client.js";
import type { V5Client } from "../wire.js";
import { step, authProperties } from "./auth5.js";
import { disconnectError, subscribeRefused } from "./errors5.js";
import { publishProperties, resolveV5, subscriptionOptions } from "./options5.js";
import { connectProperties } from "./properties5.js";
import { sendDisconnectFor } from "./inbound5.js";
import { reauthenticate, type Reauthentication } from "./reauth5.js";
import { refuseBeyondServer, serverReferenceUrl } from "./server5.js";
import { Wire5 } from "./wire5.js";

/** Checks `raw` (the client's options; OptionsError names a wrong one) and returns the MQTT 5 half of the client. */
export function createV5(raw: Record<string, unknown>, client: Client): V5Client {
  const v5 = resolveV5(raw);
  const { session, conn, o, warn } = Client.parts(client);
  /** The wire of the latest connection: its CONNACK says what the server takes. */
  let current: Wire5 | undefined;
  let requester: Requester | undefined;
  let reauth: Reauthentication | undefined;
  /** When a message with a Message Expiry Interval expires (the client's clock), by its properties, until first sent. */
  const deadlines = new WeakMap<PacketProperties, number>();

  // Before each PUBLISH the session writes: a queued message that expired is dropped ("message-expired"), one still
  // alive goes with what is left of its interval, and one larger than the server's Maximum Packet Size (which a new
  // connection may have lowered) ends with "payload-too-large" instead of making the server disconnect.
  session.check = (e, packet) => {
    const props = e.properties;
    const deadline = props && deadlines.get(props);
    if (deadline !== undefined) {
      deadlines.delete(props!);
      const interval = props!.messageExpiryInterval!;
      const left = Math.ceil((deadline - o.clock.now()) / 1000);
      if (left <= 0) return new PublishError("message-expired", `expired while queued (Message Expiry Interval ${interval} s) on ${JSON.stringify(e.topic)}`);
      if (left < interval) packet.properties = e.properties = { ...props, messageExpiryInterval: left };
    }
    return current?.tooLarge(packet);
  };

  /** With followServerReference, the Server Reference of `err` (a refusing CONNACK's, a DISCONNECT's) is the next attempt's server. */
  const follow = <E extends Error>(err: E, from: string): E => {
    const to = v5.followServerReference ? serverReferenceUrl(err, from) : undefined;
    if (to) conn.redirectTo = to;
    return err;
  };

  return {
    async wire(server) {
      const auth = v5.auth;
      const first = auth ? await step(() => auth.start()) : undefined;
      return (current = new Wire5({
        server,
        maxPacketSize: o.maxPacketSize,
        topicAliasMaximum: v5.topicAliasMaximum,
        receiveMaximum: v5.receiveMaximum ?? 65_535,
        beyondReceiveMaximum: (message) => warn(new ClientWarning("receive-maximum-exceeded", message)),
        connectProperties: { ...connectProperties(v5, o.maxPacketSize), ...(auth ? authProperties(auth, first) : undefined) },
        auth,
        accepting: (ack) => {
          // The server's Receive Maximum caps this connection's window (maxInflight stays the most).
          session.maxInflight = Math.min(o.maxInflight, ack.properties?.receiveMaximum ?? Infinity);
          // An empty clientId: the one the server assigned is this client's from now on (reconnects resume its session).
          const assigned = ack.properties?.assignedClientIdentifier;
          if (assigned !== undefined) o.clientId = assigned;
        },
        accepted: (ack) => {
          // A Server Keep Alive replaces the client's keepalive on this connection.
          const seconds = ack.properties?.serverKeepAlive;
          const keepalive = conn.keepalive;
          if (seconds === undefined || !keepalive) return;
          keepalive.stop();
          keepalive.intervalMs = seconds * 1000;
          keepalive.start();
        },
        refused: (err) => follow(err, server),
      }));
    },

    publish(topic: string, p: CheckedPublish, options: object | null | undefined): Promise<void> {
      try {
        if (conn.state === "closed") throw new ClientClosedError();
        if (current) refuseBeyondServer(current, p.qos, p.retain, p.bytes.length + p.topicBytes + 5);
        const props = options ? publishProperties(options as Record<string, unknown>) : undefined;
        if (props?.messageExpiryInterval !== undefined) deadlines.set(props, o.clock.now() + props.messageExpiryInterval * 1000);
        return session.publish(topic, p.bytes, p.qos, p.retain, p.topicBytes, props);
      } catch (err) {
        return Promise.reject(err);
      }
    },

    subscriptionOptions,

    batches(filters) {
      // A SUBSCRIBE carries one Subscription Identifier for all its filters: grouped by it, 64 at most each.
      const sorted = [...filters].sort((a, b) => (a.subscriptionIdentifier ?? 0) - (b.subscriptionIdentifier ?? 0));
      const out: (typeof filters)[] = [];
      for (const f of sorted) {
        const last = out[out.length - 1];
        if (last && last.length < 64 && last[0]!.subscriptionIdentifier === f.subscriptionIdentifier) last.push(f);
        else out.push([f]);
      }
      return out;
    },

    subscribeRefused,

    handle(link, p: Packet): boolean {
      switch (p.type) {
        case "disconnect":
          link.fail(follow(disconnectError(p), (link.codec as Wire5).url));
          return true;
        case "auth":
          if (reauth) reauth.receive(p);
          else {
            const err = new ProtocolError("unexpected-packet-type", "the broker sent AUTH with no authentication under way");
            sendDisconnectFor(link, err);
            link.fail(err);
          }
          return true;
        default:
          return false;
      }
    },

    disconnect(expiry) {
      integer("sessionExpiryInterval", expiry, 0, 0xffffffff);
      return { sessionExpiryInterval: expiry as number };
    },

    request(topic, payload, options) {
      if (conn.state === "closed") return Promise.reject(new ClientClosedError());
      requester ??= new Requester({
        clientId: o.clientId,
        clock: o.clock,
        random: o.random,
        publish: (t, p, opts) => client.publish(t, p, opts),
        listen: async (filter, onMessage) => {
          const sub = await client.subscribe(filter, { qos: 1 });
          void (async () => {
            for await (const msg of sub) onMessage(msg);
          })();
        },
      });
      return requester.request(topic, payload, options ?? {});
    },

    async reauthenticate() {
      if (!v5.auth) throw new OptionsError("reauthenticate() needs the auth option");
      const link = conn.link;
      if (conn.state !== "connected" || !link) throw new ConnectionLostError("connection-lost", "not connected");
      if (reauth) return reauth.done;
      const exchange = (reauth = reauthenticate(v5.auth, (p) => link.send(p)));
      try {
        await exchange.done;
      } catch (err) {
        if (!(err instanceof ConnectionLostError)) link.fail(err as Error);
        throw err;
      } finally {
        if (reauth === exchange) reauth = undefined;
      }
    },

    lost() {
      reauth?.fail(new ConnectionLostError("connection-lost", "the connection ended during the re-authentication"));
    },

    close(reason) {
      requester?.close(reason);
    },
  };
}
