/**
 * The `aud` request tokens carry when REQUEST_TOKEN_AUDIENCE is not set: the partner client mints
 * it, the gateway expects it. Here, with no imports, so the client package carries one constant
 * and not the configuration loaders.
 */
export const DEFAULT_TOKEN_AUDIENCE = 'agency-exchange-gateway';
