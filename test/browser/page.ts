/**
 * A small browser app, written as a user writes one: `import { connect } from "edgemq"`, bundled by the test with
 * esbuild for the browser and no other setting. It reports what happened to the page's server (POST /result).
 */
import { connect } from "edgemq";

type Step = [string, ...unknown[]];

async function main(): Promise<void> {
  const steps: Step[] = [];
  const report = (result: object) => fetch("/result", { method: "POST", body: JSON.stringify(result) });
  try {
    const broker = new URLSearchParams(location.search).get("broker")!;
    try {
      await connect({ url: "mqtt://127.0.0.1:1883", reconnect: false });
      steps.push(["mqtt-accepted"]);
    } catch (err) {
      steps.push(["mqtt-refused", (err as Error).name, (err as Error).message]);
    }
    const client = await connect({ url: broker, clientId: "browser-page", reconnect: { initialDelay: 100, maxDelay: 500 } });
    const sub = await client.subscribe("browser/#", { qos: 2 });
    const messages = sub[Symbol.asyncIterator]();
    for (const qos of [0, 1, 2] as const) {
      await client.publish(`browser/q${qos}`, `hello ${qos}`, { qos });
      const { value } = await messages.next();
      steps.push(["round-trip", value!.topic, new TextDecoder().decode(value!.payload), value!.qos]);
    }
    const reconnected = new Promise((resolve) => client.on("connect", resolve));
    await fetch("/drop", { method: "POST" }); // the server drops this page's MQTT connection
    await reconnected;
    steps.push(["reconnected"]);
    await client.publish("browser/after", "again", { qos: 1 });
    const { value } = await messages.next();
    steps.push(["after-reconnect", value!.topic, new TextDecoder().decode(value!.payload)]);
    await client.end();
    steps.push(["ended", client.connected]);
    await report({ ok: true, steps });
  } catch (err) {
    await report({ ok: false, error: String((err as Error)?.stack ?? err), steps });
  }
}

void main();
