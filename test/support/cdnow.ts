// The CDNOW 1/10 sample (Fader, Hardie and Lee 2005; test/fixtures/cdnow/README.md): 6,919 purchases of
// 2,357 customers who first bought in Q1 1997, through June 1998. Read with a parser of the tests' own.
import { readFileSync } from 'node:fs';
import { projectRoot } from '../../lib/projectRoot.js';

export interface CdnowPurchase {
  /** The sample's customer id (0001 ... 2357). */
  readonly customer: string;
  /** YYYY-MM-DD. */
  readonly date: string;
  readonly cds: number;
  readonly dollars: number;
}

export const CDNOW_FILE = `${projectRoot()}/test/fixtures/cdnow/CDNOW_sample.txt`;

export function cdnowPurchases(): CdnowPurchase[] {
  return readFileSync(CDNOW_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, customer, date, cds, dollars] = line.trim().split(/\s+/);
      if (!customer || !date || !cds || !dollars) throw new Error(`CDNOW: bad line "${line}"`);
      return {
        customer,
        date: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
        cds: Number(cds),
        dollars: Number(dollars),
      };
    });
}

/** The calibration period of the published fits: 39 weeks, 1997-01-01 to 1997-09-30. */
export const CDNOW_CALIBRATION_END = '1997-10-01T00:00:00.000Z';

/** The published fits on the calibration period (BG/NBD in weeks). */
export const PUBLISHED = {
  // Fader, Hardie and Lee (2005), table 1; lifetimes' test_params_out_is_close_to_Hardie_paper.
  bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4 },
  // Fader, Hardie and Lee, "RFM and CLV" (2005) and its note on Gamma-Gamma; lifetimes' Quickstart
  // reports p 6.25, q 3.74, v 15.45 on the same 946 repeat buyers.
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
} as const;
