/**
 * edgemq/clea: the Clea (Astarte MQTT v1) device layer. This file only re-exports.
 *
 * @module edgemq/clea
 */
export { Device } from "./device.js";
export { connectDevice } from "./connect-device.js";
export type { DeviceEvents, DeviceOptions, DeviceStats, SendOptions } from "./device-types.js";
export type { DeviceEvent } from "./receive.js";
export type { DeviceCapabilities } from "./capabilities.js";
export {
  encodePayload,
  decodePayload,
  deflateFrame,
  inflateFrame,
  looksLikeBson,
  DEFAULT_MAX_INFLATED_SIZE,
  type DecodedPayload,
  type DecodeOptions,
  type EncodeOptions,
  type PayloadType,
} from "./payload.js";
export {
  parseInterface,
  resolveMapping,
  resolveObject,
  type Interface,
  type Mapping,
  type Reliability,
  type ResolvedMapping,
  type Retention,
} from "./interface.js";
export { loadInterfaces, type InterfaceSource } from "./interface-loader.js";
export { introspection } from "./handshake.js";
export { parsePurgeList } from "./receive.js";
export { deviceIdFromUuid, isValidDeviceId, randomDeviceId } from "./device-id.js";
export { MAPPING_TYPES, type CleaValue, type MappingType, type ScalarType, type ScalarValue } from "./values.js";
export { DeviceWarning, InterfaceError, PayloadError, type DeviceWarningCode, type InterfaceErrorCode, type PayloadErrorCode } from "./errors.js";
export { OtaError, type OtaEventFields, type OtaHandler, type OtaReport, type OtaReportDetails, type OtaRequest, type OtaStatus, type OtaStatusCode } from "./ota.js";
export { EDGEHOG, edgehogInterfaces, type EdgehogInterfaceName } from "./edgehog/interfaces.js";
export type { DeviceInfo } from "./edgehog/info.js";
export { EdgehogRuntime } from "./edgehog/runtime.js";
export { edgehogCapabilities, type EdgehogCapability } from "./edgehog/capabilities.js";
export type { EdgehogOptions, Provider, StorageUsageOptions, TelemetryInterface, TelemetrySetting } from "./edgehog/options.js";
export type { TelemetryState } from "./edgehog/telemetry.js";
export type { CommandHandler, CommandRefusal } from "./edgehog/commands.js";
export type { BlinkPattern, LedBehaviorName, LedHandler, LedRequest } from "./edgehog/leds.js";
export type { ForwarderHandler, ForwarderRequest, ForwarderSession } from "./edgehog/forwarder.js";
export type { BatterySlot, BatteryState, CellularModem, GeolocationFix, WifiAccessPoint } from "./edgehog/providers.js";
export { VERSION } from "./version.js";
export { PairingClient, isCertificateFailure, type PairingClientOptions, type PairingOptions } from "./pairing.js";
export {
  brokerUrl,
  obtainCredentials,
  registerDevice,
  verifyCertificate,
  type ClientCertificate,
  type PairingDevice,
  type PairingEndpoint,
  type VerifyResult,
} from "./pairing-api.js";
export { PairingError, type PairingErrorCode } from "./pairing-error.js";
export { certificateInfo } from "./certificates.js";
export { EdgemqError } from "../index.js";
export {
  AstarteSimulator,
  SimulatedDevice,
  type AstarteSimulatorOptions,
  type IntrospectionEntry,
  type OtaRequestOptions,
  type ServerSendOptions,
  type SimulatedCapabilities,
  type SimulatedData,
  type SimulatedHandshake,
  type SimulatedMessage,
  type SimulatorEvents,
  type SimulatorMessageEvent,
  type DeviceMessageKind,
  type Violation,
  type ViolationRule,
  type WaitForViolationOptions,
  type WaitOptions,
} from "./simulator/simulator.js";
