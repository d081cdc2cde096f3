/** edgemq: the MQTT 3.1.1 client core. This file only re-exports. */
export * from "./mqtt/index.js";
