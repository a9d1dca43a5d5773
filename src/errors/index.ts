export { GatewayError, isGatewayError } from './GatewayError.js';
export type { GatewayErrorDetails } from './GatewayError.js';
export { GATEWAY_ERROR_HTTP_STATUS, httpStatusOf } from './codes.js';
export type { GatewayErrorCode } from './codes.js';
