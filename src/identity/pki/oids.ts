/** Object identifiers the federation's certificates use (X.520 attributes, RFC 5280 key purposes). */
export const OID = {
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  /** ETSI EN 319 412-1: "NTRSE-" + the ten digits of the Swedish organisationsnummer. */
  organizationIdentifier: '2.5.4.97',
  extKeyUsage: '2.5.29.37',
  crlNumber: '2.5.29.20',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;
