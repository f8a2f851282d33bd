/**
 * The gallery's numbers in one place: rate limits and identity rules (their defaults; the settings
 * schema lets an operator change the budgets), render gate, judge and tally caps, ranking rules,
 * page size, cache and retention times. docs/reliability.md gives the reason for each.
 */
import type { IdentityRules, RateLimits } from './rate-limit';
import type { GateOptions } from './render';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Identities and budgets

/** An IPv6 /48's budget, in /64 budgets: more than one subscriber's, far less than its 65,536 /64s'. */
export const NETWORK_FACTOR = 2;

/** The share of the site's daily new images one address may add. */
export const PUBLISH_SHARE_PER_ADDRESS = 0.05;

/** New images the whole site takes a day. */
export const SITE_DAILY_IMAGES = 50_000;

/**
 * Generous for people, tight for scripts: a person publishes a few images and casts a few votes a
 * minute, and plays a round of the judge game in 5–20 s (at most ~300 an hour).
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  publishPerVisitor: { limit: 20, windowMs: MINUTE },
  publishPerIp: { limit: 120, windowMs: MINUTE },
  publishPerIpDaily: { limit: SITE_DAILY_IMAGES * PUBLISH_SHARE_PER_ADDRESS, windowMs: DAY },
  publishGlobal: { limit: 600, windowMs: MINUTE },
  publishGlobalDaily: { limit: SITE_DAILY_IMAGES, windowMs: DAY },
  votePerVisitor: { limit: 120, windowMs: MINUTE },
  votePerIp: { limit: 3000, windowMs: MINUTE },
  mintPerIp: { limit: 30, windowMs: HOUR },
  judgePerVisitor: { limit: 300, windowMs: HOUR },
  judgePerIp: { limit: 600, windowMs: HOUR },
  answerPerVisitor: { limit: 300, windowMs: HOUR },
  answerPerIp: { limit: 600, windowMs: HOUR },
};

export const DEFAULT_IDENTITY_RULES: IdentityRules = { minAgeS: 5, votersPerAddressPerImage: 3 };

// Server renders

/** Server renders at once, and waiting, per process; beyond them a render is refused with 503. */
export const DEFAULT_GATE: GateOptions = { concurrency: 2, queue: 16 };

// The human score and the ranking

/**
 * The most of a model's score one network can weigh: networks weigh by their counted judgements,
 * each capped at this share of the total (water-filling), so a network moves a ranked model's
 * fool rate by at most this share of the distance to its own rate: 5 points at 0% or 100%.
 */
export const NETWORK_WEIGHT_SHARE = 0.05;

/** Bootstrap resamples for the 95% intervals. */
export const BOOTSTRAP_RESAMPLES = 2000;

/** Counted answers one contributor adds per model, and on real photographs, within TALLY_WINDOW. */
export const JUDGEMENTS_PER_CONTRIBUTOR = 20;

/**
 * How answers age: tallies are kept per week, and every score and every cap reads the last 13
 * weeks only, so a burst of answers moves a model for at most a quarter and then drops out.
 */
export const TALLY_WINDOW = { periodS: 7 * 86_400, periods: 13 };

/**
 * A model is listed, not ranked, until it has MIN_JUDGEMENTS_TO_RANK judgements from
 * MIN_NETWORKS_TO_RANK networks: the fewest at which no one weighs more than NETWORK_WEIGHT_SHARE.
 * There is deliberately no gate on one network's raw share of the judgements: a network may add
 * 40, so such a gate would let it un-rank any model with fewer than 400 by answering 40 times.
 */
export const MIN_JUDGEMENTS_TO_RANK = 30;

export const MIN_NETWORKS_TO_RANK = Math.round(1 / NETWORK_WEIGHT_SHARE);

/**
 * Neutral contributors (mean vote 0) every model's mean vote starts with: one contributor alone
 * moves it by at most 2 / (1 + VOTE_PRIOR_CONTRIBUTORS), whatever it publishes or votes.
 */
export const VOTE_PRIOR_CONTRIBUTORS = 3;

/** How long leaderboard and human-score numbers are reused by default, in ms. */
export const SCORE_CACHE_MS = 5_000;

// The judge game

/** A trial not answered within this is gone (410). */
export const TRIAL_TTL_MS = 10 * 60_000;

/** Expired trials (answered or not) are deleted this long after expiry; their tallies stay. */
export const TRIAL_KEEP_MS = 60 * 60_000;

/** Trials one identity may hold open (unanswered, unexpired): the game keeps one ahead. */
export const OPEN_TRIALS_PER_VISITOR = 4;

/** Counted judgements per model: per contributor, and per network (a /48 holds several). */
export const TALLY_CAPS = {
  perContributor: JUDGEMENTS_PER_CONTRIBUTOR,
  perNetwork: JUDGEMENTS_PER_CONTRIBUTOR * NETWORK_FACTOR,
};

// Lists and retention

/** Images per page of the gallery's lists. */
export const PAGE_SIZE = 24;

/** Unwanted images are swept at most this often per process, a bounded batch each time. */
export const RETENTION_SWEEP_EVERY_MS = 3_600_000;

/** Images deleted at most per retention sweep. */
export const RETENTION_BATCH = 100;

/** At most this many metric rows per registered run: charts need shape, not every step. */
export const RUN_SERIES_POINTS = 2000;
