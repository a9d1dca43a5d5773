/*
 * The list is configuration data (which agencies this deployment ships subgraphs for, their
 * organisation numbers and default ports), so it sits in config/, the bottom layer that the
 * subgraph process's configuration reads; src/agencies/ finds each agency's files and modules by
 * convention from it.
 */

/**
 * The data-owning agencies this repository ships subgraphs for: the one list that composition,
 * the subgraph server, `npm start`, codegen and the synthetic population iterate. Adding an agency
 * is an entry here plus files found by convention (agencyFiles in src/agencies/referenceAgencies.ts), and a DATA_OWNER entry in
 * the agency registry (src/config/dev/agencies.json) so that it gets certificates; a test keeps
 * the two lists equal. Organisation numbers are the agencies' public ones (legal persons, not
 * personal data).
 */
export const REFERENCE_AGENCIES = [
  { id: 'skatteverket', name: 'Skatteverket', organisationNumber: '202100-5448', defaultPort: 4101 },
  { id: 'forsakringskassan', name: 'Försäkringskassan', organisationNumber: '202100-5521', defaultPort: 4102 },
  { id: 'csn', name: 'Centrala studiestödsnämnden', organisationNumber: '202100-1421', defaultPort: 4103 },
  { id: 'arbetsformedlingen', name: 'Arbetsförmedlingen', organisationNumber: '202100-2114', defaultPort: 4104 },
  { id: 'kronofogden', name: 'Kronofogdemyndigheten', organisationNumber: '202100-5802', defaultPort: 4105 },
] as const satisfies readonly {
  readonly id: string;
  readonly name: string;
  readonly organisationNumber: string;
  /** Default port of its subgraph in development. */
  readonly defaultPort: number;
}[];

export type ReferenceAgency = (typeof REFERENCE_AGENCIES)[number];
export type ReferenceAgencyId = ReferenceAgency['id'];

/** The ids, in the order above. */
export const REFERENCE_AGENCY_IDS: readonly ReferenceAgencyId[] = REFERENCE_AGENCIES.map((agency) => agency.id);

/** An agency id that is not in REFERENCE_AGENCIES; the message names it and the known ones. */
export class UnknownAgencyError extends Error {
  override readonly name = 'UnknownAgencyError';

  constructor(readonly agencyId: string | undefined) {
    super(
      agencyId === undefined || agencyId === ''
        ? `No agency given; expected one of ${REFERENCE_AGENCY_IDS.join(', ')}.`
        : `Unknown agency "${agencyId}"; expected one of ${REFERENCE_AGENCY_IDS.join(', ')} (the data-owning agencies in src/config/referenceAgencies.ts).`,
    );
  }
}

export function isReferenceAgencyId(id: unknown): id is ReferenceAgencyId {
  return typeof id === 'string' && (REFERENCE_AGENCY_IDS as readonly string[]).includes(id);
}

/** The agency with this id, or UnknownAgencyError. */
export function referenceAgency(id: string | undefined): ReferenceAgency {
  const agency = REFERENCE_AGENCIES.find((a) => a.id === id);
  if (!agency) throw new UnknownAgencyError(id);
  return agency;
}
