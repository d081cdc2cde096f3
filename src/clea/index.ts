/** edgemq/clea: the Clea (Astarte MQTT v1) device layer. It grows in a later issue; for now it exposes the core it builds on. */
export { EdgemqError } from "../index.js";
