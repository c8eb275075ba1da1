// Optional, anonymised voter demographics: a country (ISO 3166-1 alpha-2) and an age band, stated once on
// the voter's device and sent with each vote. Never required, and never shown next to a nullifier or a
// payout address: /votes shows them per vote, /results as per-option counters.
import { z } from "@hono/zod-openapi";

/** The 249 officially assigned ISO 3166-1 alpha-2 codes. */
export const ISO_COUNTRY_CODES: ReadonlySet<string> = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT " +
    "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM " +
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
    "UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" "),
);

export const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const DemographicsInput = z
  .strictObject({
    country: z
      .string()
      .trim()
      .transform((value) => value.toUpperCase())
      .refine((value) => ISO_COUNTRY_CODES.has(value), "must be an ISO 3166-1 alpha-2 country code, e.g. DE")
      .nullish()
      .openapi({ example: "DE", description: "ISO 3166-1 alpha-2 country code." }),
    ageBand: z.enum(AGE_BANDS).nullish().openapi({ example: "25-34" }),
  })
  .openapi("DemographicsInput");

export const VoteDemographics = z
  .object({ country: z.string().nullable(), ageBand: z.enum(AGE_BANDS).nullable() })
  .openapi("VoteDemographics");
