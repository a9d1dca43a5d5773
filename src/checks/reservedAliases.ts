import { GatewayError } from '../errors/index.js';
import { RESERVED_ALIAS_PREFIX } from '../audit/subjectMarkers.js';
import { refuse, type OperationCheck } from '../pipeline/stages.js';

/** The access log marks subjects with reserved aliases; a client using them could blur whose data a value is. */
export const reservedAliasCheck: OperationCheck = ({ analysis }) =>
  analysis.usesReservedAlias
    ? refuse([new GatewayError('BAD_USER_INPUT', `Aliases and fields starting with ${RESERVED_ALIAS_PREFIX} are reserved by the gateway.`, { reserved: RESERVED_ALIAS_PREFIX })])
    : null;
