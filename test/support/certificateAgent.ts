import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';

/** An HTTPS agent presenting one of the development federation's certificates (an agency's system or an official's personal one). */
export function certificateAgent(certsDir: string, dir: 'officials' | 'agencies', name: string): Agent {
  return new Agent({
    connect: {
      ca: readFileSync(path.join(certsDir, 'ca.crt')),
      cert: readFileSync(path.join(certsDir, dir, `${name}.crt`)),
      key: readFileSync(path.join(certsDir, dir, `${name}.key`)),
    },
  });
}

/** The exchange's operator in the development federation (Försäkringskassan's ops-fk-1, role OPERATOR): the one who reads /metrics. */
export const DEV_OPERATOR = 'ops-fk-1';

export async function get(url: string, pathName: string, dispatcher: Agent) {
  const response = await request(new URL(pathName, url), { dispatcher });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    text,
    json: (() => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    })(),
  };
}
