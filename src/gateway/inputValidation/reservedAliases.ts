import type { DocumentNode } from 'graphql';
import { GatewayError } from '../../errors/index.js';
import { RESERVED_ALIAS_PREFIX, usesReservedAlias } from '../../audit/subjectMarkers.js';

/** The access log marks subjects with reserved aliases; a client using them could blur whose data a value is. */
export function reservedAliasCheck(document: DocumentNode): GatewayError[] {
  return usesReservedAlias(document)
    ? [new GatewayError('BAD_USER_INPUT', `Aliases and fields starting with ${RESERVED_ALIAS_PREFIX} are reserved by the gateway.`, { reserved: RESERVED_ALIAS_PREFIX })]
    : [];
}
