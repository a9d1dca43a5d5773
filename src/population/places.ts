import type { Random } from './random.js';

/**
 * Municipalities (public kommunkoder), their postal towns and the first three digits of their
 * postal codes. Weights are rough population sizes in thousands, so big towns get more households.
 */
export interface Municipality {
  readonly code: string;
  readonly name: string;
  /** Postort as written in an address. */
  readonly postalTown: string;
  readonly postalPrefixes: readonly number[];
  readonly weight: number;
}

export const MUNICIPALITIES: readonly Municipality[] = [
  { code: '0180', name: 'Stockholm', postalTown: 'Stockholm', postalPrefixes: [112, 113, 114, 115, 116, 117, 118, 120, 121, 124, 126, 128], weight: 985 },
  { code: '1480', name: 'Göteborg', postalTown: 'Göteborg', postalPrefixes: [411, 412, 413, 414, 415, 416, 417, 418, 421, 426], weight: 600 },
  { code: '1280', name: 'Malmö', postalTown: 'Malmö', postalPrefixes: [211, 212, 213, 214, 215, 216, 217, 218], weight: 360 },
  { code: '0380', name: 'Uppsala', postalTown: 'Uppsala', postalPrefixes: [751, 752, 753, 754, 756, 757], weight: 240 },
  { code: '0580', name: 'Linköping', postalTown: 'Linköping', postalPrefixes: [582, 583, 584, 585, 586, 587], weight: 165 },
  { code: '1880', name: 'Örebro', postalTown: 'Örebro', postalPrefixes: [702, 703], weight: 160 },
  { code: '1980', name: 'Västerås', postalTown: 'Västerås', postalPrefixes: [721, 722, 723, 724, 725], weight: 158 },
  { code: '1283', name: 'Helsingborg', postalTown: 'Helsingborg', postalPrefixes: [252, 253, 254, 256], weight: 150 },
  { code: '0581', name: 'Norrköping', postalTown: 'Norrköping', postalPrefixes: [602, 603], weight: 145 },
  { code: '0680', name: 'Jönköping', postalTown: 'Jönköping', postalPrefixes: [553, 554, 555, 556], weight: 145 },
  { code: '2480', name: 'Umeå', postalTown: 'Umeå', postalPrefixes: [903, 904, 905, 906, 907], weight: 131 },
  { code: '1281', name: 'Lund', postalTown: 'Lund', postalPrefixes: [222, 223, 224, 226, 227], weight: 128 },
  { code: '1490', name: 'Borås', postalTown: 'Borås', postalPrefixes: [503, 504, 506, 507], weight: 115 },
  { code: '0126', name: 'Huddinge', postalTown: 'Huddinge', postalPrefixes: [141], weight: 115 },
  { code: '0182', name: 'Nacka', postalTown: 'Nacka', postalPrefixes: [131, 132], weight: 108 },
  { code: '0484', name: 'Eskilstuna', postalTown: 'Eskilstuna', postalPrefixes: [632, 633, 635], weight: 107 },
  { code: '1380', name: 'Halmstad', postalTown: 'Halmstad', postalPrefixes: [302, 303], weight: 104 },
  { code: '2180', name: 'Gävle', postalTown: 'Gävle', postalPrefixes: [802, 803, 804, 806], weight: 103 },
  { code: '0181', name: 'Södertälje', postalTown: 'Södertälje', postalPrefixes: [151, 152], weight: 100 },
  { code: '2281', name: 'Sundsvall', postalTown: 'Sundsvall', postalPrefixes: [852, 853, 854, 856], weight: 99 },
  { code: '0780', name: 'Växjö', postalTown: 'Växjö', postalPrefixes: [352, 355], weight: 96 },
  { code: '1780', name: 'Karlstad', postalTown: 'Karlstad', postalPrefixes: [652, 653, 654, 656], weight: 95 },
  { code: '0127', name: 'Botkyrka', postalTown: 'Tumba', postalPrefixes: [145, 147], weight: 95 },
  { code: '1290', name: 'Kristianstad', postalTown: 'Kristianstad', postalPrefixes: [291], weight: 86 },
  { code: '2580', name: 'Luleå', postalTown: 'Luleå', postalPrefixes: [972, 973, 974, 975], weight: 80 },
  { code: '2482', name: 'Skellefteå', postalTown: 'Skellefteå', postalPrefixes: [931], weight: 75 },
  { code: '0880', name: 'Kalmar', postalTown: 'Kalmar', postalPrefixes: [392, 393], weight: 71 },
  { code: '2380', name: 'Östersund', postalTown: 'Östersund', postalPrefixes: [831], weight: 65 },
  { code: '0980', name: 'Gotland', postalTown: 'Visby', postalPrefixes: [621], weight: 61 },
  { code: '2080', name: 'Falun', postalTown: 'Falun', postalPrefixes: [791], weight: 60 },
  { code: '1488', name: 'Trollhättan', postalTown: 'Trollhättan', postalPrefixes: [461], weight: 59 },
  { code: '1286', name: 'Ystad', postalTown: 'Ystad', postalPrefixes: [271], weight: 30 },
  { code: '2280', name: 'Härnösand', postalTown: 'Härnösand', postalPrefixes: [871], weight: 25 },
  { code: '2584', name: 'Kiruna', postalTown: 'Kiruna', postalPrefixes: [981], weight: 22 },
  { code: '0884', name: 'Vimmerby', postalTown: 'Vimmerby', postalPrefixes: [598], weight: 16 },
  { code: '2321', name: 'Åre', postalTown: 'Järpen', postalPrefixes: [837], weight: 12 },
  { code: '2505', name: 'Arvidsjaur', postalTown: 'Arvidsjaur', postalPrefixes: [933], weight: 6 },
];

const MUNICIPALITY_WEIGHTS = MUNICIPALITIES.map((m) => [m, m.weight] as const);

export function pickMunicipality(random: Random): Municipality {
  return random.weighted(MUNICIPALITY_WEIGHTS);
}

export function postalCode(random: Random, municipality: Municipality): string {
  return `${random.pick(municipality.postalPrefixes)}${String(random.int(30, 99)).padStart(2, '0')}`;
}

/** Universities and university colleges (lärosäten) that study grants are paid for; weights ~ students. */
export const HIGHER_EDUCATION_INSTITUTIONS: readonly (readonly [string, number])[] = [
  ['Lunds universitet', 30],
  ['Uppsala universitet', 28],
  ['Göteborgs universitet', 27],
  ['Stockholms universitet', 27],
  ['Umeå universitet', 17],
  ['Linköpings universitet', 18],
  ['Linnéuniversitetet', 15],
  ['Malmö universitet', 14],
  ['Kungliga Tekniska högskolan', 13],
  ['Chalmers tekniska högskola', 10],
  ['Örebro universitet', 11],
  ['Karolinska institutet', 7],
  ['Karlstads universitet', 9],
  ['Mittuniversitetet', 8],
  ['Luleå tekniska universitet', 8],
  ['Högskolan i Gävle', 6],
  ['Högskolan Dalarna', 6],
  ['Södertörns högskola', 7],
  ['Mälardalens universitet', 9],
  ['Högskolan i Borås', 6],
];
