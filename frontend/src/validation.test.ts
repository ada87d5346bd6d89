import cases from './testing/inputCases.json';
import { durationError, NumberKey, numberError, parseDuration, rangeInWords } from './validation';

// The same cases tests/contract.rs runs through the backend's readers.
describe('input the backend accepts', () => {
  it.each(cases.durations)('reads $field $input as the backend does', ({ input, seconds }) => {
    if (seconds === undefined) {
      expect(durationError(input)).toEqual(expect.any(String));
    } else {
      expect(parseDuration(input)).toBe(seconds);
      expect(durationError(input)).toBeUndefined();
    }
  });

  it.each(cases.numbers)('bounds $field $value as the backend does', ({ field, value, valid }) => {
    expect(numberError(field as NumberKey, value) === undefined).toBe(valid);
  });

  it.each(cases.ranges)("says the range of $field in the backend's words", ({ field, min, max }) => {
    expect(rangeInWords(field as NumberKey)).toEqual([min, max]);
  });
});

describe('durationError', () => {
  it('leaves empty values and whole variables to Grafana and the backend', () => {
    for (const value of [undefined, '', '  ', '$bucket', '${bucket}', '[[bucket]]']) {
      expect(durationError(value)).toBeUndefined();
    }
    expect(durationError('$bucket d')).toEqual(expect.any(String));
  });

  it('says what is wrong', () => {
    expect(durationError('30s')).toBe('Use at least 1m.');
    expect(durationError('0d')).toBe('Use a duration longer than zero.');
    expect(durationError('101y')).toBe('Use at most 100y.');
    expect(durationError('500ms')).toBe('Use a whole number followed by one of s, m, h, d, w, y, e.g. 30m or 1d.');
  });
});
