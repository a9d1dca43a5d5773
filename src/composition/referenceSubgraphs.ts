import { REFERENCE_AGENCIES } from '../agencies/referenceAgencies.js';
import { agencySdlPath, subgraphSdlSource } from '../subgraph-kit/loadSdl.js';
import type { SubgraphSource } from '../apollo/composeSupergraph.js';

/**
 * The reference agencies' subgraphs as composition input. The URL recorded in the supergraph is
 * the development default; deployments override it per subgraph (SUBGRAPH_URLS).
 */
export function referenceSubgraphSources(scheme: 'http' | 'https' = 'https'): SubgraphSource[] {
  return [
    ...REFERENCE_AGENCIES.map((agency) => ({
      name: agency.id,
      sdl: subgraphSdlSource(agencySdlPath(agency.id)),
      url: `${scheme}://127.0.0.1:${agency.defaultPort}/graphql`,
    })),
    // Answered inside the gateway process; the URL only names it.
    { name: EXCHANGE_SUBGRAPH, sdl: subgraphSdlSource(agencySdlPath(EXCHANGE_SUBGRAPH)), url: 'local://gateway/exchange' },
  ];
}

/** The gateway's own subgraph (purpose catalogue). */
export const EXCHANGE_SUBGRAPH = 'exchange';
