import type { ReferenceAgencyId } from '../src/agencies/referenceAgencies.js';
import type { AgencySubgraph } from '../src/subgraph-kit/types.js';
import { createSkatteverketSubgraph } from './skatteverket/index.js';
import { createForsakringskassanSubgraph } from './forsakringskassan/index.js';
import { createCsnSubgraph } from './csn/index.js';
import { createArbetsformedlingenSubgraph } from './arbetsformedlingen/index.js';

/** The reference agencies' subgraphs by id. */
export const AGENCY_SUBGRAPHS: Record<ReferenceAgencyId, (options: { dbPath: string }) => AgencySubgraph<never>> = {
  skatteverket: createSkatteverketSubgraph as never,
  forsakringskassan: createForsakringskassanSubgraph as never,
  csn: createCsnSubgraph as never,
  arbetsformedlingen: createArbetsformedlingenSubgraph as never,
};
