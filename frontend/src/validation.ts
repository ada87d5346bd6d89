import contract from './contract.json';

/**
 * Checks of what a user types, with the backend's own grammar and bounds:
 * both come from `contract.json`, which the backend writes
 * (`tests/contract.rs`), and `testing/inputCases.json` is run by both sides.
 */

export type NumberKey = keyof typeof contract.bounds;

const UNITS: Record<string, number> = contract.durations.units;
const UNIT_NAMES = Object.keys(UNITS)
  .sort((a, b) => UNITS[a] - UNITS[b])
  .join(', ');
/** A whole value that is a dashboard variable: Grafana replaces it before the backend reads it. */
const VARIABLE_RE = /^(\$\w+|\$\{[^}]+\}|\[\[[^\]]+\]\])$/;

/** Seconds of a duration such as `30m` or `1d`, or a message saying what is wrong; as `parse_duration`. */
export function parseDuration(input: string): number | string {
  const malformed = `Use a whole number followed by one of ${UNIT_NAMES}, e.g. 30m or 1d.`;
  const match = /^([0-9]*)([^0-9][\s\S]*)$/.exec(input.trim());
  if (!match || match[1] === '' || !Object.prototype.hasOwnProperty.call(UNITS, match[2])) {
    return malformed;
  }
  const seconds = Number(match[1]) * UNITS[match[2]];
  if (seconds === 0) {
    return 'Use a duration longer than zero.';
  }
  if (seconds > contract.durations.maxSeconds) {
    return 'Use at most 100y.';
  }
  return seconds;
}

/** The message for a `bucket` or `rolling` value, or undefined when it is fine, empty or a variable. */
export function durationError(value: string | undefined): string | undefined {
  const text = value?.trim() ?? '';
  if (text === '' || VARIABLE_RE.test(text)) {
    return undefined;
  }
  const seconds = parseDuration(text);
  if (typeof seconds === 'string') {
    return seconds;
  }
  return seconds < contract.durations.minSeconds ? 'Use at least 1m.' : undefined;
}

/** The units a bound may be said in, largest first, with their seconds. */
const IN_WORDS: Array<[string, number]> = [
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** `n` of `unit` as a whole number of the largest unit that allows (as it is when none does); as `whole_of`. */
function wholeOf(n: number, unit: string): [number, string] {
  if (Number.isInteger(n)) {
    return [n, unit];
  }
  const seconds = n * (IN_WORDS.find(([u]) => u === unit)?.[1] ?? 1);
  for (const [u, s] of IN_WORDS) {
    const count = seconds / s;
    if (Math.abs(count - Math.round(count)) < 1e-9) {
      return [Math.round(count), u];
    }
  }
  return [n, unit];
}

function counted(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** A field's range in words, e.g. 1 minute to 365 days; as `Bounds::range_in_words`. */
export function rangeInWords(key: NumberKey): [string, string] {
  const { min, max, unit } = contract.bounds[key];
  if (unit === null) {
    return [String(min), String(max)];
  }
  const [low, lowUnit] = wholeOf(min, unit);
  const [high, highUnit] = wholeOf(max, unit);
  return [lowUnit === highUnit ? String(low) : counted(low, lowUnit), counted(high, highUnit)];
}

/** The message for a numeric setting or option, or undefined when it is fine or unset. */
export function numberError(key: NumberKey, value: number | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const { min, max, whole } = contract.bounds[key];
  if (!Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min || value > max) {
    const [low, high] = rangeInWords(key);
    return `Enter ${whole ? 'a whole number' : 'a number'} from ${low} to ${high}.`;
  }
  return undefined;
}
